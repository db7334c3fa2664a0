/**
 * One delivery through its channel's chain of providers: rate limit, claim (or hand over), send, record — then
 * its outcome published. A failed send fails over, is retried later, or ends the delivery (`dead`, `failed`).
 */
import { RetryLaterError } from '@flotilla/streams'
import type { Address, SendResult, Transport } from '../channels/types.ts'
import { TransportError } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'
import { type DeliveryStatus, SETTLED_STATUSES } from './model.ts'
import { type BreakerOf, failureOf, handsOver, idempotencyKeyOf } from './providers.ts'
import type { OutcomePublisher } from './publishing.ts'
import type { DeliveryOutcome, DeliveryServiceDeps, SendOutcome } from './service-types.ts'
import type { Failure } from './store.ts'

export const createSendChain = (
  deps: DeliveryServiceDeps,
  breakerOf: BreakerOf,
  { publishOutcome }: Pick<OutcomePublisher, 'publishOutcome'>,
) => {
  const { store, transports, limiter } = deps

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

  return { sendFrom, giveUp }
}

export type SendChain = ReturnType<typeof createSendChain>
