/**
 * Sending one delivery exactly once, through the first provider of its channel that takes it. The delivery log
 * row is the lock and the memory:
 * - a settled row is never sent again (redelivery, crash after send, replay);
 * - `claim` gives one worker a time-bounded lease, so two copies of an event never send at once;
 * - a lease that expired mid-send (a crash) is resent only through an idempotent transport with the same
 *   idempotency key (Resend answers the first result again); other transports mark it `failed` with
 *   `OUTCOME_UNKNOWN` rather than risk a second message.
 */
import { RetryLaterError } from '@flotilla/streams'
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel'
import type { TransportChains } from '../channels/index.ts'
import type { Address, SendRequest, SendResult, SqlExecutor, Transport } from '../channels/types.ts'
import { TransportError } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { RateLimiter } from '../rate-limit/limiter.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import type { DeliveryBatchStore } from './batch-store.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from './model.ts'
import { type EventSink, outcomeEventOf } from './outcome-events.ts'
import type { DeliveryStore, Failure, NewDelivery } from './store.ts'

/** What became of one delivery in this pass, with the row as this pass last read or wrote it. */
export type DeliveryOutcome = { readonly row: DeliveryRow } & (
  | { readonly kind: 'settled'; readonly status: DeliveryStatus }
  | { readonly kind: 'retry'; readonly delayMs?: number; readonly failure: Failure }
  | { readonly kind: 'dead'; readonly failure: Failure }
)

/** A provider's circuit: how many consecutive transient failures open it, and for how long it stays open. */
export interface CircuitSettings {
  readonly failures: number
  readonly openMs: number
}

export interface DeliveryLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface DeliveryServiceDeps {
  readonly store: DeliveryStore
  /** The same log's batch statements (`deliverBatch`). */
  readonly batchStore: DeliveryBatchStore
  /** Ordered providers per channel: the next takes over when one is down. */
  readonly transports: TransportChains
  /** When a provider's circuit opens and for how long. @defaultValue 5 failures, 30 s */
  readonly circuit?: CircuitSettings
  readonly limiter: RateLimiter
  readonly events: EventSink
  /** How long a claim lasts; must exceed the longest send (the transport timeout). */
  readonly leaseMs: number
  readonly logger?: DeliveryLogger
  /** Called once per settled attempt (metrics). */
  readonly onAttempt?: (info: { channel: string; provider: string; outcome: string }) => void
}

/**
 * The idempotency key sent with every attempt of one delivery through one provider (≤ 256 characters): the
 * same on every retry, and its own per provider, so a provider that may hold the message answers the first
 * result while the next provider of a failover is not told "already seen".
 */
const idempotencyKeyOf = (deliveryId: string, generation: number, provider: string) =>
  generation === 0
    ? `flotilla-notification-${deliveryId}-${provider}`
    : `flotilla-notification-${deliveryId}-g${generation}-${provider}`

const failureOf = (error: unknown): Failure => {
  if (error instanceof TransportError) return { code: error.code, message: error.message, kind: error.kind }
  if (error instanceof BrokenCircuitError)
    return {
      code: 'CIRCUIT_OPEN',
      message: 'the provider failed too often lately and is skipped',
      kind: 'transient',
    }
  return { code: 'SEND_FAILED', message: (error as Error)?.message ?? String(error), kind: 'transient' }
}

/**
 * Whether the next provider takes over: when this one certainly did not take the message (unreachable,
 * answered an error, circuit open). A timeout is the one unknown outcome: the delivery stays with this provider
 * (retried later under the same key, so a message it did take is answered, not sent again) until its circuit
 * opens.
 */
const handsOver = (failure: Failure) => failure.kind === 'transient' && failure.code !== 'PROVIDER_TIMEOUT'

export const createDeliveryService = (deps: DeliveryServiceDeps) => {
  const { store, transports, limiter, events } = deps
  const batchStore = deps.batchStore
  const publishBatch = events.publishBatch?.bind(events)
  // One circuit per provider of a channel, in this process: consecutive transient failures open it.
  const breakers = new Map<string, CircuitBreakerPolicy>()
  const breakerOf = (channel: string, position: number, provider: string) => {
    const key = `${channel}|${position}|${provider}`
    let breaker = breakers.get(key)
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((e) => e instanceof TransportError && e.kind === 'transient'),
        {
          halfOpenAfter: deps.circuit?.openMs ?? 30_000,
          breaker: new ConsecutiveBreaker(deps.circuit?.failures ?? 5),
        },
      )
      breakers.set(key, breaker)
    }
    return breaker
  }

  /** What a transport is asked to send for a delivery (its stored address and content) in key generation `generation`. */
  const sendRequestOf = (
    d: Pick<DeliveryRow, 'id' | 'address' | 'content'>,
    generation: number,
    provider: string,
  ): SendRequest => ({
    address: JSON.parse(d.address as string) as Address,
    message: JSON.parse(d.content as string) as RenderedMessage,
    idempotencyKey: idempotencyKeyOf(d.id, generation, provider),
  })

  /**
   * A transport that writes to this database sends `requests` inside the caller's transaction, through its
   * breaker: one answer per request, in order (each one the error when the send as a whole threw).
   */
  const sendWithinTx = async (
    transport: Transport,
    tx: SqlExecutor,
    requests: readonly SendRequest[],
  ): Promise<(SendResult | Error)[]> => {
    const sendWithin = transport.sendBatchWithin?.bind(transport)
    if (!sendWithin) throw new Error(`${transport.provider} does not write to this database`)
    const answers = await breakerOf(transport.channel, 0, transport.provider)
      .execute(() => sendWithin(tx, requests))
      .catch((error: unknown) =>
        requests.map(() => (error instanceof Error ? error : new Error(String(error)))),
      )
    return requests.map((_, i) => answers[i] ?? new Error('no answer from the transport'))
  }

  /** Whether the event for `marker` is published: its marker written, or owed by this process (`markPublishedLater`). */
  const published = (row: DeliveryRow, marker: string) =>
    row.publishedStatus === marker || batchStore.owedMarker(row.id) === marker

  /**
   * Publishes the outcome event a settled row owes, once (a crash before the marker republishes the same id);
   * resolves to the row after its marker.
   */
  const publishOutcome = async (row: DeliveryRow): Promise<DeliveryRow> => {
    const owed = outcomeEventOf(row)
    if (!owed || published(row, owed.marker)) return row
    await events.publish(owed.event)
    await store.markPublished(row.id, owed.marker)
    return { ...row, publishedStatus: owed.marker }
  }

  /** The row a settling write read back, its outcome event published. */
  const settle = async (id: string, row: DeliveryRow | undefined): Promise<DeliveryRow> => {
    if (!row) throw new Error(`delivery ${id} disappeared`)
    return publishOutcome(row)
  }

  const giveUp = async (
    row: DeliveryRow,
    status: 'failed' | 'dead',
    failure: Failure,
    attempt?: { number: number; outcome: string; provider?: string },
  ): Promise<DeliveryOutcome> => {
    const settled = await settle(row.id, await store.markFinal(row.id, status, failure, attempt))
    deps.onAttempt?.({
      channel: row.channel,
      provider: attempt?.provider ?? row.provider ?? 'none',
      outcome: status,
    })
    if (settled.status === 'dead') return { kind: 'dead', failure, row: settled }
    return { kind: 'settled', status: settled.status as DeliveryStatus, row: settled }
  }

  type SendOutcome = { readonly ok: SendResult } | { readonly error: unknown }

  const sent = async (
    row: DeliveryRow,
    attempt: number,
    provider: string,
    result: SendResult,
    failedOver: boolean,
  ): Promise<DeliveryOutcome> => {
    const settled = await settle(
      row.id,
      await store.markSent(row.id, attempt, provider, result.providerMessageId, failedOver),
    )
    deps.onAttempt?.({ channel: row.channel, provider, outcome: 'sent' })
    return { kind: 'settled', status: 'sent', row: settled }
  }

  /**
   * Sends a delivery through its chain from provider `from`: rate limit, claim (or hand over), send, record.
   * `first`: the first provider's attempt was already claimed and sent (by a batch); continue from its result.
   */
  const sendFrom = async (
    row: DeliveryRow,
    lastDelivery: boolean,
    from: number,
    first?: { attempt: number; outcome: SendOutcome },
  ): Promise<DeliveryOutcome> => {
    const chain = transports[row.channel as ChannelName]
    const address = JSON.parse(row.address ?? 'null') as Address
    const message = JSON.parse(row.content ?? 'null') as RenderedMessage
    let attempt: number | undefined
    let handedOver: Failure | undefined
    for (let i = from; i < chain.length; i++) {
      const transport = chain[i] as Transport
      const provider = transport.provider
      const hasNext = i < chain.length - 1
      let outcome: SendOutcome
      if (i === from && first) {
        attempt = first.attempt
        outcome = first.outcome
      } else {
        try {
          await limiter.acquire(provider)
        } catch (error) {
          if (!(error instanceof RetryLaterError)) throw error
          const failure: Failure = { code: 'RATE_LIMITED', message: error.message, kind: 'transient' }
          // After a failover, the previous provider's attempt is finished with its own failure.
          const previous = chain[i - 1]
          if (attempt !== undefined && handedOver && previous)
            await store.markRetry(row.id, attempt, previous.provider, handedOver)
          // The stream will not deliver the event again: record why it was never sent.
          if (lastDelivery) return giveUp(row, 'dead', failure)
          return { kind: 'retry', delayMs: error.delayMs, failure, row }
        }
        attempt =
          attempt === undefined || !handedOver
            ? await store.claim(row.id, Date.now() + deps.leaseMs, provider)
            : await store.handOver(row.id, attempt, handedOver, provider)
        if (attempt === undefined) {
          const current = await store.get(row.id)
          if (current && SETTLED_STATUSES.has(current.status as DeliveryStatus)) {
            const settled = await publishOutcome(current)
            return { kind: 'settled', status: current.status as DeliveryStatus, row: settled }
          }
          return {
            kind: 'retry',
            delayMs: Math.max(50, (current?.leaseUntil ?? 0) - Date.now() + 50),
            failure: { code: 'DELIVERY_BUSY', message: 'another worker holds this delivery' },
            row: current ?? row,
          }
        }
        const request = {
          address,
          message,
          idempotencyKey: idempotencyKeyOf(row.id, row.keyGeneration, provider),
        }
        outcome = await breakerOf(row.channel, i, provider)
          .execute(() => transport.send(request))
          .then(
            (ok) => ({ ok }),
            (error: unknown) => ({ error }),
          )
      }
      if ('ok' in outcome) return sent(row, attempt, provider, outcome.ok, i > 0)
      const { error } = outcome
      const failure = failureOf(error)
      if (failure.kind === 'permanent')
        return giveUp(row, 'dead', failure, { number: attempt, outcome: 'dead', provider })
      if (error instanceof TransportError && error.status === 429 && error.retryAfterMs)
        await limiter.pause(provider, error.retryAfterMs)
      if (hasNext && handsOver(failure)) {
        handedOver = failure
        deps.onAttempt?.({ channel: row.channel, provider, outcome: 'failover' })
        deps.logger?.info(
          { deliveryId: row.id, attempt, from: provider, to: chain[i + 1]?.provider, error: failure },
          'delivery handed to the next provider',
        )
        continue
      }
      if (lastDelivery) {
        const final = {
          code: failure.code,
          message: `out of retries after attempt ${attempt}: ${failure.message}`,
        }
        return giveUp(row, 'dead', final, { number: attempt, outcome: 'dead', provider })
      }
      await store.markRetry(row.id, attempt, provider, failure)
      deps.onAttempt?.({ channel: row.channel, provider, outcome: 'retry' })
      deps.logger?.info({ deliveryId: row.id, attempt, error: failure }, 'delivery will be retried')
      const delayMs = error instanceof TransportError ? error.retryAfterMs : undefined
      return { kind: 'retry', ...(delayMs === undefined ? {} : { delayMs }), failure, row }
    }
    throw new Error(`channel ${row.channel} has no provider`)
  }

  /** The first attempt of fresh `queued` deliveries, as a batch (see `deliverBatch`). */
  const deliverFresh = async (
    fresh: readonly { row: DeliveryRow; lastDelivery: boolean; transport: Transport }[],
  ): Promise<Map<string, Promise<DeliveryOutcome>>> => {
    const outcomes = new Map<string, Promise<DeliveryOutcome>>()
    const later = (id: string, outcome: Promise<DeliveryOutcome>) => {
      outcome.catch(() => {})
      outcomes.set(id, outcome)
    }
    // A provider with a rate gets its sends one by one, each as its slot comes (a batch would send them all at the
    // last slot, in a burst); the others (the outbox) need no slot.
    const admitted: (typeof fresh)[number][] = []
    await Promise.all(
      fresh.map(async (item) => {
        if (limiter.limits(item.transport.provider))
          return later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
        try {
          await limiter.acquire(item.transport.provider)
          admitted.push(item)
        } catch (error) {
          if (!(error instanceof RetryLaterError)) return later(item.row.id, Promise.reject(error))
          const failure: Failure = { code: 'RATE_LIMITED', message: error.message, kind: 'transient' }
          later(
            item.row.id,
            item.lastDelivery
              ? giveUp(item.row, 'dead', failure)
              : Promise.resolve({ kind: 'retry', delayMs: error.delayMs, failure, row: item.row }),
          )
        }
      }),
    )
    type Item = (typeof admitted)[number]
    const leaseUntil = Date.now() + deps.leaseMs
    const requestOf = ({ row, transport }: Item) => sendRequestOf(row, row.keyGeneration, transport.provider)
    /** A send whose answer is known, with its attempt; `writtenAt`: when it was recorded `sent` (a local transport). */
    const accepted: { item: Item; attempt: number; ok: SendResult; writtenAt?: number | undefined }[] = []
    const answered = (item: Item, attempt: number, outcome: SendOutcome, writtenAt?: number) => {
      if ('ok' in outcome) accepted.push({ item, attempt, ok: outcome.ok, writtenAt })
      else later(item.row.id, sendFrom(item.row, item.lastDelivery, 0, { attempt, outcome }))
    }
    const groups = new Map<Transport, Item[]>()
    for (const item of admitted) groups.set(item.transport, [...(groups.get(item.transport) ?? []), item])

    // A transport writing to this database: claim, send and record in one transaction per transport.
    for (const [transport, group] of groups) {
      if (!transport.sendBatchWithin) continue
      groups.delete(transport)
      const byId = new Map(group.map((item) => [item.row.id, item]))
      const done = await batchStore.claimAndSendMany(
        group.map(({ row }) => ({ id: row.id, provider: transport.provider })),
        leaseUntil,
        async (tx, taken) => {
          const answers = await sendWithinTx(
            transport,
            tx,
            taken.map((id) => requestOf(byId.get(id) as Item)),
          )
          return new Map(taken.map((id, i) => [id, answers[i] as SendResult | Error]))
        },
      )
      for (const item of group) {
        const got = done.get(item.row.id)
        // Taken meanwhile by another worker (or settled): `sendFrom` reads where it stands.
        if (!got) later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
        else
          answered(
            item,
            got.attempt,
            got.answer instanceof Error ? { error: got.answer } : { ok: got.answer },
            got.at,
          )
      }
    }

    // Every other transport: one claim, the sends, one settle.
    const apart = [...groups.values()].flat()
    const claimed =
      apart.length > 0
        ? await batchStore.claimMany(
            apart.map(({ row, transport }) => ({ id: row.id, provider: transport.provider })),
            leaseUntil,
          )
        : new Map<string, number>()
    // Taken meanwhile by another worker (or settled): `deliver` reads where it stands.
    const mine = apart.filter((item) => {
      if (claimed.has(item.row.id)) return true
      later(item.row.id, sendFrom(item.row, item.lastDelivery, 0))
      return false
    })
    const byTransport = new Map<Transport, typeof mine>()
    for (const item of mine)
      byTransport.set(item.transport, [...(byTransport.get(item.transport) ?? []), item])
    const results = new Map<string, SendOutcome>()
    await Promise.all(
      [...byTransport].map(async ([transport, group]) => {
        const breaker = breakerOf(transport.channel, 0, transport.provider)
        const requests = group.map(requestOf)
        if (transport.sendBatch) {
          const sendBatch = transport.sendBatch.bind(transport)
          const answers = await breaker
            .execute(() => sendBatch(requests))
            .then(
              (all) => all.map((a) => (a instanceof TransportError ? { error: a } : { ok: a })),
              (error: unknown) => group.map(() => ({ error })),
            )
          for (const [i, { row }] of group.entries()) results.set(row.id, answers[i] as SendOutcome)
          return
        }
        await Promise.all(
          group.map(async ({ row }, i) => {
            const outcome = await breaker
              .execute(() => transport.send(requests[i] as SendRequest))
              .then(
                (ok) => ({ ok }),
                (error: unknown) => ({ error }),
              )
            results.set(row.id, outcome)
          }),
        )
      }),
    )
    for (const item of mine)
      answered(item, claimed.get(item.row.id) as number, results.get(item.row.id) as SendOutcome)
    if (accepted.length === 0) return outcomes
    const settling = (async () => {
      const now = Date.now()
      const toWrite = accepted.filter((a) => a.writtenAt === undefined)
      const written =
        toWrite.length > 0
          ? await batchStore.markSentMany(
              toWrite.map(({ item, attempt, ok }) => ({
                id: item.row.id,
                attempt,
                provider: item.transport.provider,
                providerMessageId: ok.providerMessageId,
              })),
              now,
            )
          : new Set<string>()
      for (const a of accepted) if (a.writtenAt !== undefined) written.add(a.item.row.id)
      // Rows as just written; one another worker moved on meanwhile is read back (as `markSent` reads it).
      const moved = accepted.filter(({ item }) => !written.has(item.row.id)).map(({ item }) => item.row.id)
      const current = moved.length > 0 ? await batchStore.getMany(moved) : new Map<string, DeliveryRow>()
      const rows = accepted.map(({ item, attempt, ok, writtenAt }): DeliveryRow => {
        if (!written.has(item.row.id)) {
          const row = current.get(item.row.id)
          if (!row) throw new Error(`delivery ${item.row.id} disappeared`)
          return row
        }
        return {
          ...item.row,
          status: 'sent',
          attempts: attempt,
          provider: item.transport.provider,
          providerMessageId: ok.providerMessageId,
          sentAt: writtenAt ?? now,
          updatedAt: writtenAt ?? now,
          leaseUntil: 0,
          errorCode: null,
          errorMessage: null,
          failedOver: false,
        }
      })
      for (const { item } of accepted)
        deps.onAttempt?.({ channel: item.row.channel, provider: item.transport.provider, outcome: 'sent' })
      return publishOutcomes(rows)
    })()
    for (const [i, { item }] of accepted.entries())
      later(
        item.row.id,
        settling.then(
          (rows): DeliveryOutcome => ({ kind: 'settled', status: 'sent', row: rows[i] as DeliveryRow }),
        ),
      )
    return outcomes
  }

  /** `publishOutcome` for many rows: one publish call, the markers owed to the next write transaction. */
  const publishOutcomes = async (rows: readonly DeliveryRow[]): Promise<DeliveryRow[]> => {
    const owed = rows.map((row) => {
      const o = outcomeEventOf(row)
      return o && !published(row, o.marker) ? o : undefined
    })
    const events = owed.flatMap((o) => (o ? [o.event] : []))
    if (events.length === 0) return [...rows]
    if (publishBatch) await publishBatch(events)
    else await Promise.all(events.map((event) => deps.events.publish(event)))
    const byMarker = new Map<string, string[]>()
    rows.forEach((row, i) => {
      const o = owed[i]
      if (o) byMarker.set(o.marker, [...(byMarker.get(o.marker) ?? []), row.id])
    })
    // The markers ride in the next write transaction (no commit of their own): the events are out, and a marker
    // lost to a crash only lets a redelivery publish an event again under its same id.
    for (const [marker, ids] of byMarker) batchStore.markPublishedLater(ids, marker)
    return rows.map((row, i) => {
      const o = owed[i]
      return o ? { ...row, publishedStatus: o.marker } : row
    })
  }

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
     * existed already (a redelivery: left as they were, for `deliverBatch`; planned id → stored id). Throws with
     * nothing written when the transaction fails (then the caller takes the path that claims).
     */
    async recordAndDeliver(
      items: readonly { delivery: NewDelivery; lastDelivery: boolean }[],
      before: (tx: SqlExecutor) => Promise<void>,
    ): Promise<{
      rows: Map<string, DeliveryRow>
      outcomes: Map<string, Promise<DeliveryOutcome>>
      existed: ReadonlyMap<string, string>
    }> {
      const transportOf = (d: NewDelivery) => transports[d.channel as ChannelName]?.[0] as Transport
      const lastDelivery = new Map(items.map((i) => [i.delivery.id, i.lastDelivery]))
      const byId = new Map(items.map((i) => [i.delivery.id, i.delivery]))
      const { inserted, existed } = await batchStore.insertAndSendMany(
        items.map(({ delivery }) => ({ delivery, provider: transportOf(delivery).provider })),
        Date.now() + deps.leaseMs,
        before,
        async (tx, fresh) => {
          const answers = new Map<string, SendResult | Error>()
          const groups = new Map<Transport, NewDelivery[]>()
          for (const id of fresh) {
            const d = byId.get(id) as NewDelivery
            const transport = transportOf(d)
            groups.set(transport, [...(groups.get(transport) ?? []), d])
          }
          for (const [transport, group] of groups) {
            // A new delivery's first key generation is 0.
            const got = await sendWithinTx(
              transport,
              tx,
              group.map((d) => sendRequestOf(d, 0, transport.provider)),
            )
            for (const [i, d] of group.entries()) answers.set(d.id, got[i] as SendResult | Error)
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
      const sentRows: DeliveryRow[] = []
      for (const [id, { row, answer }] of inserted) {
        rows.set(id, row)
        if (answer instanceof Error)
          later(
            id,
            sendFrom(row, lastDelivery.get(id) ?? false, 0, { attempt: 1, outcome: { error: answer } }),
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
      return { rows, outcomes, existed }
    },

    /** Records a delivery that will never be sent (no address, opted out, bad data) and publishes what it owes. */
    async record(row: DeliveryRow): Promise<DeliveryRow> {
      return publishOutcome(row)
    },
  }
  return api
}

export type DeliveryService = ReturnType<typeof createDeliveryService>
