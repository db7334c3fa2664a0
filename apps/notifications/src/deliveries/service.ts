/**
 * Sending one delivery exactly once. The delivery log row is the lock and the memory:
 * - a settled row is never sent again (redelivery, crash after send, replay);
 * - `claim` gives one worker a time-bounded lease, so two copies of an event never send at once;
 * - a lease that expired mid-send (a crash) is resent only through an idempotent transport with the same
 *   idempotency key (Resend answers the first result again); other transports mark it `failed` with
 *   `OUTCOME_UNKNOWN` rather than risk a second message.
 */
import { RetryLaterError } from '@flotilla/streams'
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

export interface DeliveryLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface DeliveryServiceDeps {
  readonly store: DeliveryStore
  readonly transports: Readonly<Record<ChannelName, Transport>>
  readonly limiter: RateLimiter
  readonly events: EventSink
  /** How long a claim lasts; must exceed the longest send (the transport timeout). */
  readonly leaseMs: number
  readonly logger?: DeliveryLogger
  /** Called once per settled attempt (metrics). */
  readonly onAttempt?: (info: { channel: string; provider: string; outcome: string }) => void
}

/** The idempotency key sent with every attempt of one delivery (≤ 256 characters). */
const idempotencyKeyOf = (deliveryId: string, generation = 0) =>
  generation === 0
    ? `flotilla-notification-${deliveryId}`
    : `flotilla-notification-${deliveryId}-g${generation}`

export const createDeliveryService = (deps: DeliveryServiceDeps) => {
  const { store, transports, limiter, events } = deps

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
      const transport = transports[row.channel as ChannelName]
      const now = Date.now()
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

      try {
        await limiter.acquire(transport.provider)
      } catch (error) {
        if (!(error instanceof RetryLaterError)) throw error
        const failure: Failure = { code: 'RATE_LIMITED', message: error.message, kind: 'transient' }
        // The stream will not deliver the event again: record why it was never sent.
        if (lastDelivery) return giveUp(row, 'dead', failure)
        return { kind: 'retry', delayMs: error.delayMs, failure, row }
      }
      const attempt = await store.claim(row.id, Date.now() + deps.leaseMs)
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
        address: JSON.parse(row.address) as Address,
        message: JSON.parse(row.content) as RenderedMessage,
        idempotencyKey: idempotencyKeyOf(row.id, row.keyGeneration),
      }
      const provider = transport.provider
      try {
        const result = await transport.send(request)
        const sent = await settle(
          row.id,
          await store.markSent(row.id, attempt, provider, result.providerMessageId),
        )
        deps.onAttempt?.({ channel: row.channel, provider, outcome: 'sent' })
        return { kind: 'settled', status: 'sent', row: sent }
      } catch (error) {
        const failure: Failure =
          error instanceof TransportError
            ? { code: error.code, message: error.message, kind: error.kind }
            : { code: 'SEND_FAILED', message: (error as Error)?.message ?? String(error), kind: 'transient' }
        if (error instanceof TransportError && error.kind === 'permanent')
          return giveUp(row, 'dead', failure, { number: attempt, outcome: 'dead', provider })
        if (error instanceof TransportError && error.status === 429 && error.retryAfterMs)
          await limiter.pause(provider, error.retryAfterMs)
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
    },

    /** Records a delivery that will never be sent (no address, opted out, bad data) and publishes what it owes. */
    async record(row: DeliveryRow): Promise<DeliveryRow> {
      return publishOutcome(row)
    },
  }
}

export type DeliveryService = ReturnType<typeof createDeliveryService>
