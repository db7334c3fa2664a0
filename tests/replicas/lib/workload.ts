/**
 * What the replica suite publishes: distinct valid events over a few tenants (`user.registered` → one welcome
 * email each; opaque `order.*` events for audit and analytics), a share of them published twice (same envelope id),
 * and poison entries of several kinds that every group must dead-letter with a reason.
 */
import { type AnyEvent, createCustomEvent, createEvent } from '@flotilla/contracts'

/** A small seeded generator (mulberry32): a failing run can be replayed with its seed. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface WorkloadOptions {
  /** Distinct valid events. */
  readonly events: number
  /** How many of them are `user.registered` (one email each). */
  readonly registrations: number
  /** How many of them are published a second time, same id. */
  readonly duplicates: number
  /** Poison entries, spread over the kinds below. */
  readonly poison: number
  readonly random: () => number
  /** Unique per run: user ids and email addresses contain it. */
  readonly run: string
}

/** A stream entry as raw fields (what a producer in another language could XADD). */
export type RawEntry = readonly string[]

export interface Workload {
  /** Publish order: every distinct event once, plus the duplicates interleaved after their originals. */
  readonly publishes: readonly AnyEvent[]
  /** Raw poison entries, with the reason each must be dead-lettered for. */
  readonly poison: readonly { readonly fields: RawEntry; readonly kind: string }[]
  /** Distinct valid events per type. */
  readonly distinctByType: ReadonlyMap<string, number>
  /** The welcome-email recipients, one per registration. */
  readonly recipients: ReadonlySet<string>
  readonly distinct: number
}

const TENANTS = ['t-north', 't-south', 't-east', 't-west', 't-up', undefined]

const POISON_KINDS: readonly { kind: string; fields: (n: number) => RawEntry }[] = [
  { kind: 'broken JSON', fields: () => ['type', 'user.registered', 'event', '{"oops":'] },
  { kind: 'no event field', fields: () => ['type', 'order.placed'] },
  { kind: 'not an object', fields: () => ['type', 'order.placed', 'event', '42'] },
  {
    kind: 'type field disagrees with the envelope',
    fields: () => [
      'type',
      'order.shipped',
      'event',
      JSON.stringify(createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' })),
    ],
  },
  {
    kind: 'payload outside the contract',
    fields: (n) => [
      'type',
      'user.registered',
      'event',
      JSON.stringify({
        ...createEvent('user.registered', { userId: `u_poison_${n}` }, { source: 'monolith' }),
        payload: { userId: `u_poison_${n}`, bogus: true },
      }),
    ],
  },
  {
    kind: 'envelope without an id',
    fields: () => {
      const { id: _id, ...rest } = createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' })
      return ['type', 'order.placed', 'event', JSON.stringify(rest)]
    },
  },
  {
    kind: 'version not an integer',
    fields: () => [
      'type',
      'order.placed',
      'event',
      JSON.stringify({
        ...createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' }),
        version: 'one',
      }),
    ],
  },
]

/** Builds the workload (nothing is published here). */
export const buildWorkload = (o: WorkloadOptions): Workload => {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(o.random() * list.length)] as T
  const distinct: AnyEvent[] = []
  const recipients = new Set<string>()
  const distinctByType = new Map<string, number>()
  for (let i = 0; i < o.events; i++) {
    const tenantId = pick(TENANTS)
    const context = { source: 'monolith', ...(tenantId ? { tenantId } : {}) }
    let event: AnyEvent
    // Registrations spread evenly through the run, so emails are sent while replicas die.
    if (i % Math.floor(o.events / o.registrations) === 0 && recipients.size < o.registrations) {
      const email = `r${i}.${o.run}@replicas.test`
      recipients.add(email)
      event = createEvent('user.registered', { userId: `u_${o.run}_${i}`, email }, context)
    } else {
      const type = o.random() < 0.5 ? 'order.placed' : 'order.shipped'
      event = createCustomEvent(type, { orderId: `o_${i}`, amount: Math.floor(o.random() * 1000) }, context)
    }
    distinct.push(event)
    distinctByType.set(event.type, (distinctByType.get(event.type) ?? 0) + 1)
  }
  if (recipients.size !== o.registrations) throw new Error('workload: registrations do not fit the events')

  // Each duplicate goes out again a little later than its original (as a producer's retry would).
  const publishes: AnyEvent[] = []
  const again = new Map<number, AnyEvent[]>()
  const step = Math.floor(o.events / o.duplicates)
  let scheduled = 0
  distinct.forEach((event, i) => {
    publishes.push(event, ...(again.get(i) ?? []))
    if (i % step === 0 && scheduled < o.duplicates) {
      scheduled++
      const later = i + 1 + Math.floor(o.random() * 200)
      if (later >= o.events) publishes.push(event)
      else again.set(later, [...(again.get(later) ?? []), event])
    }
  })
  const poison = Array.from({ length: o.poison }, (_, n) => {
    const kind = POISON_KINDS[n % POISON_KINDS.length]!
    return { kind: kind.kind, fields: kind.fields(n) }
  })
  return { publishes, poison, distinctByType, recipients, distinct: distinct.length }
}
