/** Poison messages: 50 bad entries mixed into 5,000 good ones; exactly the 50 reach the dead-letter stream. */
import { encodeEntry } from '@flotilla/contracts'
import { goodEvent, poisonEvent, until } from '../lib/harness.ts'
import { idsOf, inWorld, outcome, type SuiteEnv, settle } from './common.ts'

type Fields = string[]
interface Poison {
  readonly kind: string
  readonly fields: Fields
  /** Dead-lettered on the first delivery (contract violation), else after maxDeliveries. */
  readonly permanent: boolean
}

const MAX_DELIVERIES = 3

const validJson = () => {
  const e = goodEvent()
  return { e, json: JSON.stringify(e) }
}

/** The 50 poison entries: every kind the issue lists. */
const poisons = (): Poison[] => {
  const list: Poison[] = []
  const add = (kind: string, n: number, make: () => Fields, permanent = true) => {
    for (let i = 0; i < n; i++) list.push({ kind, fields: make(), permanent })
  }
  add('missing event field', 6, () => ['type', 'user.registered'])
  add('missing type field', 6, () => ['event', validJson().json])
  add('invalid JSON', 6, () => ['type', 'user.registered', 'event', '{"id": "x", oops'])
  add('envelope violation', 6, () => {
    const { e } = validJson()
    return ['type', e.type, 'event', JSON.stringify({ ...e, id: 42, occurredAt: 'yesterday' })]
  })
  add('payload schema violation', 6, () => {
    const { e } = validJson()
    return ['type', e.type, 'event', JSON.stringify({ ...e, payload: { userId: 7 } })]
  })
  add('__proto__ pollution attempt', 4, () => {
    const { e } = validJson()
    const json = JSON.stringify(e).replace('"payload":{', '"payload":{"__proto__":{"polluted":true},')
    return ['type', e.type, 'event', json]
  })
  add('constructor.prototype pollution attempt', 2, () => {
    const { e } = validJson()
    const json = JSON.stringify(e).replace(
      '"payload":{',
      '"payload":{"constructor":{"prototype":{"polluted":true}},',
    )
    return ['type', e.type, 'event', json]
  })
  add('10 MB entry', 1, () => {
    const { e } = validJson()
    const big = JSON.stringify({ ...e, payload: { ...e.payload, blob: 'x'.repeat(10 * 1024 * 1024) } })
    return ['type', e.type, 'event', big]
  })
  add('handler always throws', 10, () => [...encodeEntry(poisonEvent('throw'))], false)
  add('handler exits the process', 3, () => [...encodeEntry(poisonEvent('exit'))], false)
  return list
}

export const poisonMessages = async (env: SuiteEnv, good = 5000) => {
  return inWorld(env, { fixture: { maxDeliveries: MAX_DELIVERIES } }, async (world) => {
    const { supervisor, redis, stream } = world
    const bad = poisons()
    const goodEvents = Array.from({ length: good }, goodEvent)
    const entries: { fields: Fields; poison?: Poison }[] = [
      ...goodEvents.map((e) => ({ fields: [...encodeEntry(e)] })),
      ...bad.map((p) => ({ fields: p.fields, poison: p })),
    ]
    // Shuffle: poison lands in the middle of batches.
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[entries[i], entries[j]] = [
        entries[j] as (typeof entries)[number],
        entries[i] as (typeof entries)[number],
      ]
    }
    const poisonIds = new Map<string, Poison>()
    for (let i = 0; i < entries.length; i += 250) {
      const slice = entries.slice(i, i + 250)
      const pipe = redis.pipeline()
      for (const entry of slice) pipe.xadd(stream, '*', ...entry.fields)
      const results = (await pipe.exec()) ?? []
      results.forEach(([, id], k) => {
        const poison = slice[k]?.poison
        if (poison) poisonIds.set(String(id), poison)
      })
    }
    const startedAt = Date.now()
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    // The service keeps running: a process that exits is replaced (bounded).
    let restarts = 0
    let watching = true
    const watcher = (async () => {
      while (watching && restarts < 40) {
        await Bun.sleep(100)
        while (supervisor.live().length < 3 && restarts < 40) {
          restarts++
          await supervisor.spawn().catch(() => {})
        }
      }
    })()
    const tally = await settle(world, good, 120_000)
    await until(async () => (await world.deadLetters()) >= bad.length, 20_000)
    watching = false
    await watcher
    const letters = await redis.xrange(world.dlq, '-', '+')
    const byOriginal = new Map<string, Record<string, string>>()
    for (const [, fields] of letters) {
      const record: Record<string, string> = {}
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string
      byOriginal.set(record.originalId ?? '', record)
    }
    // Contract violations: dead-lettered when first examined, never retried (code CONTRACT_VIOLATION). A batch
    // read ahead by a process that then died counts one delivery nobody examined, so 2 is possible there.
    // Handler failures: after exactly maxDeliveries.
    const wrongDeliveries: string[] = []
    let permanentAtFirst = 0
    for (const [id, poison] of poisonIds) {
      const letter = byOriginal.get(id)
      if (!letter) continue
      const deliveries = Number(letter.deliveries)
      if (poison.permanent) {
        if (deliveries === 1) permanentAtFirst++
        if (letter.errorCode !== 'CONTRACT_VIOLATION' || deliveries > 2)
          wrongDeliveries.push(`${poison.kind}: ${letter.errorCode} after ${deliveries} deliveries`)
      } else if (deliveries !== MAX_DELIVERIES)
        wrongDeliveries.push(`${poison.kind}: ${deliveries} deliveries (want ${MAX_DELIVERIES})`)
    }
    const poisonInDlq = [...poisonIds.keys()].filter((id) => byOriginal.has(id)).length
    const goodInDlq = [...byOriginal.keys()].filter((id) => !poisonIds.has(id))
    const polluted = await world.ledger.polluted()
    const alive = supervisor.live().length
    const { lost, row } = outcome(world, tally, idsOf(goodEvents), {
      scenario: `${bad.length} poison entries among ${good} good ones`,
      published: good + bad.length,
      acknowledged: good + bad.length,
      recoveryMs: tally.settledAt - startedAt,
      notes: `dead letters: ${poisonInDlq} of ${bad.length} poison entries (${bad.filter((p) => p.permanent).length} contract violations, never retried: ${permanentAtFirst} at their first delivery, the rest at their second after a process that had read them ahead died; ${bad.filter((p) => !p.permanent).length} handler failures — 10 throwing, 3 exiting the process — after maxDeliveries = ${MAX_DELIVERIES}) and ${goodInDlq.length} good ones; ${wrongDeliveries.length === 0 ? 'every delivery count as expected' : `unexpected delivery counts: ${wrongDeliveries.join('; ')}`}; ${restarts} consumer processes replaced after an exit, ${alive} running at the end; Object.prototype ${polluted ? 'POLLUTED' : 'never polluted'} (recovery = time to drain).`,
    })
    return {
      row,
      poisonInDlq,
      goodInDlq,
      wrongDeliveries,
      polluted,
      lost,
      alive,
      total: bad.length,
      restarts,
    }
  })
}
