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
import type { Address, Transport } from '../channels/types.ts'
import { TransportError } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { RateLimiter } from '../rate-limit/limiter.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from './model.ts'
import { type EventSink, outcomeEventOf } from './outcome-events.ts'
import type { DeliveryStore, Failure } from './store.ts'

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

  /**
   * Publishes the outcome event a settled row owes, once (a crash before the marker republishes the same id);
   * resolves to the row after its marker.
   */
  const publishOutcome = async (row: DeliveryRow): Promise<DeliveryRow> => {
    const owed = outcomeEventOf(row)
    if (!owed || row.publishedStatus === owed.marker) return row
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

  return {
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

      const address = JSON.parse(row.address) as Address
      const message = JSON.parse(row.content) as RenderedMessage
      let attempt: number | undefined
      let handedOver: Failure | undefined
      for (let i = from; i < chain.length; i++) {
        const transport = chain[i] as Transport
        const provider = transport.provider
        const hasNext = i < chain.length - 1
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
        try {
          const result = await breakerOf(row.channel, i, provider).execute(() => transport.send(request))
          const sent = await settle(
            row.id,
            await store.markSent(row.id, attempt, provider, result.providerMessageId, i > 0),
          )
          deps.onAttempt?.({ channel: row.channel, provider, outcome: 'sent' })
          return { kind: 'settled', status: 'sent', row: sent }
        } catch (error) {
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
      }
      throw new Error(`channel ${row.channel} has no provider`)
    },

    /** Records a delivery that will never be sent (no address, opted out, bad data) and publishes what it owes. */
    async record(row: DeliveryRow): Promise<DeliveryRow> {
      return publishOutcome(row)
    },
  }
}

export type DeliveryService = ReturnType<typeof createDeliveryService>
