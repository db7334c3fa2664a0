/**
 * What the delivery service asks of providers: the idempotency key of an attempt, a failure read off a send's
 * error, one circuit per provider of a channel, and the sends of a transport that writes to this database.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel'
import type { Address, SendRequest, SendResult, SqlExecutor, Transport } from '../channels/types.ts'
import { TransportError } from '../channels/types.ts'
import type { DeliveryRow } from '../db/schema.ts'
import type { RenderedMessage } from '../templates/model.ts'
import type { CircuitSettings } from './service-types.ts'
import type { Failure } from './store.ts'

/**
 * The idempotency key sent with every attempt of one delivery through one provider (≤ 256 characters): the
 * same on every retry, and its own per provider, so a provider that may hold the message answers the first
 * result while the next provider of a failover is not told "already seen".
 */
export const idempotencyKeyOf = (deliveryId: string, generation: number, provider: string) =>
  generation === 0
    ? `flotilla-notification-${deliveryId}-${provider}`
    : `flotilla-notification-${deliveryId}-g${generation}-${provider}`

export const failureOf = (error: unknown): Failure => {
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
export const handsOver = (failure: Failure) =>
  failure.kind === 'transient' && failure.code !== 'PROVIDER_TIMEOUT'

/**
 * What a transport is asked to send for a delivery (its stored address and content) in key generation
 * `generation`; `message`: the object its content was serialized from, when the caller still holds it.
 */
export const sendRequestOf = (
  d: Pick<DeliveryRow, 'id' | 'address' | 'content'>,
  generation: number,
  provider: string,
  message?: RenderedMessage,
): SendRequest => ({
  address: JSON.parse(d.address as string) as Address,
  message: message ?? (JSON.parse(d.content as string) as RenderedMessage),
  idempotencyKey: idempotencyKeyOf(d.id, generation, provider),
})

/** The circuit of each provider of a channel, in this process: consecutive transient failures open it. */
export const createBreakers = (circuit: CircuitSettings | undefined) => {
  const breakers = new Map<string, CircuitBreakerPolicy>()
  const breakerOf = (channel: string, position: number, provider: string) => {
    const key = `${channel}|${position}|${provider}`
    let breaker = breakers.get(key)
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((e) => e instanceof TransportError && e.kind === 'transient'),
        {
          halfOpenAfter: circuit?.openMs ?? 30_000,
          breaker: new ConsecutiveBreaker(circuit?.failures ?? 5),
        },
      )
      breakers.set(key, breaker)
    }
    return breaker
  }
  return breakerOf
}

export type BreakerOf = ReturnType<typeof createBreakers>

/**
 * A transport that writes to this database sends `requests` inside the caller's transaction, through its
 * breaker: one answer per request, in order (each one the error when the send as a whole threw).
 */
export const sendWithinTx = async (
  breakerOf: BreakerOf,
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
