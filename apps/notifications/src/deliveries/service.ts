/**
 * Sending one delivery exactly once, through the first provider of its channel that takes it. The delivery log
 * row is the lock and the memory:
 * - a settled row is never sent again (redelivery, crash after send, replay);
 * - `claim` gives one worker a time-bounded lease, so two copies of an event never send at once;
 * - a lease that expired mid-send (a crash) is resent only through an idempotent transport with the same
 *   idempotency key (Resend answers the first result again); other transports mark it `failed` with
 *   `OUTCOME_UNKNOWN` rather than risk a second message.
 * The pieces: providers.ts (idempotency keys, failures, circuits), send-chain.ts (one delivery through its
 * providers), send-fresh.ts (a batch's first attempts), publishing.ts (the outcome events); this file puts
 * them together as the service's API.
 */
import type { SendResult, SqlExecutor, Transport } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from './model.ts'
import { createBreakers, sendRequestOf, sendWithinTx } from './providers.ts'
import { createOutcomePublisher } from './publishing.ts'
import { createSendChain } from './send-chain.ts'
import { createFreshSender } from './send-fresh.ts'
import type { DeliveryOutcome, DeliveryServiceDeps } from './service-types.ts'
import type { NewDelivery } from './store.ts'

export const createDeliveryService = (deps: DeliveryServiceDeps) => {
  const { store, transports, limiter } = deps
  const batchStore = deps.batchStore
  const breakerOf = createBreakers(deps.circuit)
  const { publishOutcome, publishOutcomes } = createOutcomePublisher(deps)
  const { sendFrom, giveUp } = createSendChain(deps, breakerOf, { publishOutcome })
  const deliverFresh = createFreshSender(deps, breakerOf, { sendFrom, giveUp }, { publishOutcomes })

  const api = {
    publishOutcome,

    /**
     * Moves one delivery forward: sends it when it is due, or reports why not.
     * `lastDelivery`: the stream will not deliver the event again, so a transient failure is final (`dead`).
     */
    async deliver(row: DeliveryRow, { lastDelivery }: { lastDelivery: boolean }): Promise<DeliveryOutcome> {
      if (SETTLED_STATUSES.has(row.status as DeliveryStatus)) {
        const settled = await publishOutcome(row)
        return settled.status === 'dead'
          ? {
              kind: 'dead',
              failure: { code: settled.errorCode ?? 'DEAD', message: settled.errorMessage ?? '' },
              row: settled,
            }
          : { kind: 'settled', status: settled.status as DeliveryStatus, row: settled }
      }
      const chain = transports[row.channel as ChannelName]
      const now = Date.now()
      let from = 0
      if (row.status === 'sending') {
        if (row.leaseUntil > now)
          return {
            kind: 'retry',
            delayMs: row.leaseUntil - now + 50,
            failure: { code: 'DELIVERY_BUSY', message: 'another worker holds this delivery' },
            row,
          }
        // The last attempt ended without a record (a crash mid-send): the provider may have the message.
        await store.markAbandoned(row.id, row.attempts)
        // Only the provider that may hold it can be asked again (its key answers the first result).
        const lastProvider = (await store.attempts(row.id)).at(-1)?.provider ?? chain[0]?.provider
        from = Math.max(
          0,
          chain.findIndex((t) => t.provider === lastProvider),
        )
        const transport = chain[from] as Transport
        const keyExpired =
          transport.idempotencyWindowMs !== undefined && now - row.createdAt > transport.idempotencyWindowMs
        if (!transport.idempotent || keyExpired) {
          return giveUp(row, 'failed', {
            code: 'OUTCOME_UNKNOWN',
            message: `attempt ${row.attempts} through ${transport.provider} ended without an answer; not resent, to never send it twice`,
          })
        }
      }
      if (!row.content || !row.address)
        return giveUp(row, 'dead', {
          code: 'DELIVERY_INCOMPLETE',
          message: 'no rendered content or address',
          kind: 'permanent',
        })

      return sendFrom(row, lastDelivery, from)
    },

    /**
     * Moves many deliveries forward at once, as `deliver` does each: fresh `queued` ones through their channel's
     * first provider with one claim, one send step (one statement for the outbox), one settle and one publish for
     * the batch; a failed send continues alone from its attempt (failover, retry, dead), and every other row
     * (settled, held by a lease, a crash's leftover) goes through `deliver`. Resolves to one outcome per row id
     * (a rejected promise for a row whose pass threw), the same for a row listed twice.
     */
    deliverBatch(
      items: readonly { row: DeliveryRow; lastDelivery: boolean }[],
    ): Map<string, Promise<DeliveryOutcome>> {
      const outcomes = new Map<string, Promise<DeliveryOutcome>>()
      const fresh: { row: DeliveryRow; lastDelivery: boolean; transport: Transport }[] = []
      for (const item of items) {
        if (outcomes.has(item.row.id)) continue
        const transport = transports[item.row.channel as ChannelName]?.[0]
        if (item.row.status === 'queued' && item.row.content && item.row.address && transport) {
          // A placeholder until the batch below settles it.
          outcomes.set(item.row.id, Promise.resolve(undefined as unknown as DeliveryOutcome))
          fresh.push({ ...item, transport })
        } else outcomes.set(item.row.id, api.deliver(item.row, { lastDelivery: item.lastDelivery }))
      }
      const settled = deliverFresh(fresh)
      for (const item of fresh) {
        const outcome = settled.then((all) => all.get(item.row.id) as Promise<DeliveryOutcome>)
        outcome.catch(() => {}) // read by the caller; never an unhandled rejection here
        outcomes.set(item.row.id, outcome)
      }
      return outcomes
    },

    /**
     * Whether a new delivery can be recorded and sent in one transaction (`recordAndDeliver`): queued and due
     * now, with its content and address, through a first provider that writes to this database
     * (`Transport.sendBatchWithin`: the local outbox) and has no rate.
     */
    sendsWithin(delivery: NewDelivery): boolean {
      const transport = transports[delivery.channel as ChannelName]?.[0]
      return (
        delivery.status === 'queued' &&
        (delivery.dueAt ?? null) === null &&
        !!delivery.content &&
        !!delivery.address &&
        transport?.sendBatchWithin !== undefined &&
        !limiter.limits(transport.provider)
      )
    },

    /**
     * Records new deliveries (each `sendsWithin`) and makes their first attempt in one transaction, after
     * `before` (the caller's writes that commit with them: the batch's directory upsert): one commit for the
     * batch where the path that claims makes three. Each delivery's attempt is recorded with it — `sent`, or
     * taken with its attempt started when the transport refused it (continued here as after a claim: failover,
     * retry, dead) — and the `notification.sent` of those sent is published after the commit, as `deliverBatch`
     * publishes it. Resolves to the rows as written, one outcome per inserted delivery, and the deliveries that
     * existed already (a redelivery: left as they were, for `deliverBatch`; planned id → stored id); `cancelled`:
     * the ids recorded `cancelled` (their request was cancelled; settled, never sent). Throws with nothing written
     * when the transaction fails (then the caller takes the path that claims).
     */
    async recordAndDeliver(
      items: readonly {
        delivery: NewDelivery
        lastDelivery: boolean
        message?: RenderedMessage | undefined
      }[],
      before: (tx: SqlExecutor) => Promise<void>,
    ): Promise<{
      rows: Map<string, DeliveryRow>
      outcomes: Map<string, Promise<DeliveryOutcome>>
      existed: ReadonlyMap<string, string>
      cancelled: ReadonlySet<string>
    }> {
      const transportOf = (d: NewDelivery) => transports[d.channel as ChannelName]?.[0] as Transport
      const itemOf = new Map(items.map((i) => [i.delivery.id, i]))
      const { inserted, existed, cancelled } = await batchStore.insertAndSendMany(
        items.map(({ delivery }) => ({ delivery, provider: transportOf(delivery).provider })),
        Date.now() + deps.leaseMs,
        before,
        async (tx, fresh) => {
          const answers = new Map<string, SendResult | Error>()
          const groups = new Map<Transport, (typeof items)[number][]>()
          for (const id of fresh) {
            const item = itemOf.get(id) as (typeof items)[number]
            const transport = transportOf(item.delivery)
            const group = groups.get(transport)
            if (group) group.push(item)
            else groups.set(transport, [item])
          }
          for (const [transport, group] of groups) {
            // A new delivery's first key generation is 0.
            const got = await sendWithinTx(
              breakerOf,
              transport,
              tx,
              group.map(({ delivery, message }) => sendRequestOf(delivery, 0, transport.provider, message)),
            )
            for (const [i, { delivery }] of group.entries())
              answers.set(delivery.id, got[i] as SendResult | Error)
          }
          return answers
        },
      )
      const rows = new Map<string, DeliveryRow>()
      const outcomes = new Map<string, Promise<DeliveryOutcome>>()
      const later = (id: string, outcome: Promise<DeliveryOutcome>) => {
        outcome.catch(() => {}) // read by the caller; never an unhandled rejection here
        outcomes.set(id, outcome)
      }
      for (const [id, row] of cancelled) {
        rows.set(id, row)
        later(id, Promise.resolve({ kind: 'settled', status: 'cancelled', row }))
      }
      const sentRows: DeliveryRow[] = []
      for (const [id, { row, answer }] of inserted) {
        rows.set(id, row)
        if (answer instanceof Error)
          later(
            id,
            sendFrom(row, itemOf.get(id)?.lastDelivery ?? false, 0, {
              attempt: 1,
              outcome: { error: answer },
            }),
          )
        else {
          sentRows.push(row)
          deps.onAttempt?.({ channel: row.channel, provider: row.provider ?? 'outbox', outcome: 'sent' })
        }
      }
      if (sentRows.length > 0) {
        const published = publishOutcomes(sentRows)
        for (const [i, row] of sentRows.entries())
          later(
            row.id,
            published.then(
              (all): DeliveryOutcome => ({ kind: 'settled', status: 'sent', row: all[i] as DeliveryRow }),
            ),
          )
      }
      return { rows, outcomes, existed, cancelled: new Set(cancelled.keys()) }
    },

    /** Records a delivery that will never be sent (no address, opted out, bad data) and publishes what it owes. */
    async record(row: DeliveryRow): Promise<DeliveryRow> {
      return publishOutcome(row)
    },
  }
  return api
}

export type DeliveryService = ReturnType<typeof createDeliveryService>
