/**
 * Many requests at once, deciding each exactly as `dispatch` does (the same plan, opt-outs, throttle, quiet hours
 * and schedule), with the writes shared: one opt-out query, one insert for every delivery, one `deliverBatch`.
 * Replays and digest templates (whose placement reads what the requests before them recorded), and requests whose
 * data does not render, take the one-request path after the batch, in order.
 */
import { type ContactInput, type ContactStore, sameContact } from '../contacts/store.ts'
import type { ContactRow, DeliveryRow } from '../db/schema.ts'
import type { DeliveryBatchStore } from '../deliveries/batch-store.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from '../deliveries/model.ts'
import type { DeliveryService } from '../deliveries/service.ts'
import type { DeliveryOutcome } from '../deliveries/service-types.ts'
import type { NewDelivery } from '../deliveries/store.ts'
import { optOutKey, type PreferenceStore } from '../preferences/store.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import type { TemplateRegistry } from '../templates/registry.ts'
import type { Throttle } from '../workflows/throttle.ts'
import type { NotificationRequest } from './model.ts'
import { type DispatchContext, type Plan, planRequest, renderPlan, settleOutcomes, waitOf } from './plan.ts'

export interface BatchDispatchDeps {
  readonly registry: TemplateRegistry
  readonly contacts: ContactStore
  readonly preferences: PreferenceStore
  readonly batchStore: DeliveryBatchStore
  readonly service: DeliveryService
  readonly throttle: Throttle
  readonly onStatus?: (info: { channel: string; status: string }) => void
  /** The one-request path. */
  readonly dispatch: (request: NotificationRequest, context: DispatchContext) => Promise<DeliveryRow[]>
}

/** One request of a batch. */
export interface BatchItem {
  readonly request: NotificationRequest
  readonly context: DispatchContext
}

/**
 * The batch's directory writes, not yet made: the upsert of `inputs` commits with the deliveries when the whole
 * batch is recorded and sent in one transaction (`DeliveryService.recordAndDeliver`), else first, as it did.
 * `expected`: the rows the requests were decided on (`ContactStore.expectMany`); when the upsert leaves a row
 * that differs (another writer meanwhile), the batch is decided again on the rows it left.
 */
export interface PendingContacts {
  readonly inputs: readonly ContactInput[]
  readonly expected: ReadonlyMap<string, ContactRow>
}

/** The upsert left a directory row other than the one the batch was decided on: nothing of the batch was written. */
class ContactMoved extends Error {}

/** `items` with each caller's directory row replaced by the row the upsert left. */
const withStored = (items: readonly BatchItem[], stored: ReadonlyMap<string, ContactRow>): BatchItem[] =>
  items.map((item) => {
    const row = item.context.contact && stored.get(item.context.contact.userId)
    return row ? { ...item, context: { ...item.context, contact: row } } : item
  })

const movedIn = (pending: PendingContacts, stored: ReadonlyMap<string, ContactRow>) =>
  [...pending.expected].some(([userId, row]) => !sameContact(row, stored.get(userId)))

/** What became of one request: its rows, or the error `dispatch` would have thrown. */
export type BatchResult = { readonly rows: DeliveryRow[] } | { readonly error: unknown }

interface Planned {
  readonly index: number
  readonly item: BatchItem
  readonly plan: Plan
  readonly rendered: Map<ChannelName, RenderedMessage>
  /** The delivery of each target, with whether its creation is counted (a workflow status). */
  readonly deliveries: {
    readonly delivery: NewDelivery
    readonly counted: boolean
    /** The rendered message its `content` holds (serialized from it): sent as is, not parsed back. */
    readonly message?: RenderedMessage | undefined
  }[]
}

const failed = (error: unknown): BatchResult => ({ error })

export const dispatchBatch = async (
  deps: BatchDispatchDeps,
  items: readonly BatchItem[],
  pending?: PendingContacts,
): Promise<BatchResult[]> => {
  const { registry, contacts, preferences, batchStore, service, throttle } = deps
  const results: (BatchResult | undefined)[] = items.map(() => undefined)
  const alone: number[] = []

  // The directory rows of recipients whose caller did not just write them.
  const missing = items
    .filter(({ request, context }) => context.contact?.userId !== request.recipient.userId)
    .map(({ request }) => request.recipient.userId)
  const directory = new Map<string, ContactRow | undefined>()
  await Promise.all(
    [...new Set(missing)].map(async (userId) => directory.set(userId, await contacts.get(userId))),
  )

  const planned: Omit<Planned, 'deliveries'>[] = []
  for (const [index, item] of items.entries()) {
    const { request, context } = item
    if (context.replay) {
      alone.push(index)
      continue
    }
    const contact =
      context.contact?.userId === request.recipient.userId
        ? context.contact
        : directory.get(request.recipient.userId)
    let plan: Plan
    try {
      plan = planRequest(registry, request, contact)
    } catch (error) {
      results[index] = failed(error)
      continue
    }
    if (plan.template.digest) {
      alone.push(index)
      continue
    }
    try {
      planned.push({ index, item, plan, rendered: renderPlan(registry, plan, request) })
    } catch {
      // Bad data: the one-request path records a dead delivery per target, then dead-letters the event.
      alone.push(index)
    }
  }

  const optedOut = await preferences.optedOutOf(
    planned.filter((p) => !p.plan.critical).map((p) => p.plan.recipient.userId),
  )
  const isOptedOut = (p: Omit<Planned, 'deliveries'>, channel: ChannelName) =>
    !p.plan.critical && optedOut.has(optOutKey(p.plan.recipient.userId, p.plan.category, channel))
  // One throttle decision per request, taken only when something would be sent (as `dispatch` takes it).
  const admitted = await Promise.all(
    planned.map(async (p) => {
      const sends = p.plan.targets.some((t) => t.address && !isOptedOut(p, t.channel))
      if (!sends) return true
      return (
        p.plan.critical || throttle.admit(p.plan.recipient.userId, p.plan.category, p.item.request.requestId)
      )
    }),
  )

  const all: Planned[] = planned.map((p, i) => {
    const { plan } = p
    const deliveries = plan.targets.map((target) => {
      const common = plan.base(target)
      if (!target.address)
        return {
          counted: false,
          delivery: {
            ...common,
            content: null,
            status: 'failed',
            errorCode: 'NO_ADDRESS',
            errorMessage: `no ${target.channel} address is known for user ${plan.recipient.userId}`,
          },
        }
      if (isOptedOut(p, target.channel))
        return { counted: false, delivery: { ...common, content: null, status: 'suppressed' } }
      const message = p.rendered.get(target.channel)
      const content = JSON.stringify(message)
      if (!admitted[i]) {
        const limit = throttle.limitOf(plan.category)
        return {
          counted: true,
          delivery: {
            ...common,
            content,
            status: 'throttled',
            errorCode: 'THROTTLED',
            errorMessage: `more than ${limit?.limit} ${plan.category} notifications for this user within ${limit?.windowMs} ms`,
          },
        }
      }
      return {
        counted: true,
        message,
        delivery: { ...common, content, ...waitOf(plan.requestedDue, plan.quiet) },
      }
    })
    return { ...p, deliveries }
  })

  const news = all.flatMap((p) =>
    p.deliveries.map((d) => ({ ...d, lastDelivery: p.item.context.lastDelivery })),
  )
  // The whole batch due now through the local outbox: the directory upsert, the delivery rows, the messages and
  // their attempts in one transaction (one commit). Otherwise the directory is written first, as before.
  const folds = pending && alone.length === 0 && news.every(({ delivery }) => service.sendsWithin(delivery))
  let folded: Awaited<ReturnType<DeliveryService['recordAndDeliver']>> | undefined
  if (pending && folds) {
    try {
      folded = await service.recordAndDeliver(news, async (tx) => {
        if (movedIn(pending, await contacts.upsertManyWithin(tx, pending.inputs))) throw new ContactMoved()
      })
    } catch {
      // Nothing of the batch was written (a directory row moved, a race, a database error): the path that claims,
      // decided again on the rows the upsert leaves.
      return dispatchBatch(deps, withStored(items, await contacts.upsertMany(pending.inputs)))
    }
  } else if (pending) {
    const stored = await contacts.upsertMany(pending.inputs)
    if (movedIn(pending, stored)) return dispatchBatch(deps, withStored(items, stored))
  }

  // Of the folded batch only what was recorded `cancelled` is counted (its request was cancelled).
  const { rows, created } = folded
    ? {
        rows: new Map([...folded.rows, ...(await batchStore.getExisting(folded.existed))]),
        created: new Set(folded.cancelled),
      }
    : await batchStore.insertMany(news.map((d) => d.delivery))
  const rowOf = (id: string) => {
    const row = rows.get(id)
    if (!row) throw new Error(`delivery ${id} vanished after insert`)
    return row
  }
  for (const p of all)
    for (const { delivery, counted } of p.deliveries) {
      const row = rowOf(delivery.id)
      if (counted && created.has(row.id) && row.status !== 'queued')
        deps.onStatus?.({ channel: row.channel, status: row.status })
    }

  // A delivery with a due time belongs to the due-time poller: the stream never sends it.
  const waits = (row: DeliveryRow) =>
    row.dueAt !== null && !SETTLED_STATUSES.has(row.status as DeliveryStatus)
  const outcomes = service.deliverBatch(
    all.flatMap((p) =>
      p.deliveries
        .map(({ delivery }) => rowOf(delivery.id))
        .filter((row) => !waits(row) && !folded?.outcomes.has(row.id))
        .map((row) => ({ row, lastDelivery: p.item.context.lastDelivery })),
    ),
  )
  for (const [id, outcome] of folded?.outcomes ?? []) outcomes.set(id, outcome)
  await Promise.all(
    all.map(async (p) => {
      try {
        const settled: DeliveryOutcome[] = []
        for (const { delivery } of p.deliveries) {
          const row = rowOf(delivery.id)
          settled.push(
            waits(row)
              ? { kind: 'settled', status: row.status as DeliveryStatus, row }
              : await (outcomes.get(row.id) as Promise<DeliveryOutcome>),
          )
        }
        settleOutcomes(settled)
        results[p.index] = { rows: settled.map((o) => o.row) }
      } catch (error) {
        results[p.index] = failed(error)
      }
    }),
  )

  for (const index of alone) {
    const { request, context } = items[index] as BatchItem
    try {
      results[index] = { rows: await deps.dispatch(request, context) }
    } catch (error) {
      results[index] = failed(error)
    }
  }
  return results.map((r) => r ?? failed(new Error('request left unsettled')))
}
