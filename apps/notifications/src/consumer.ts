/**
 * The `notifications` consumer outside the runner, for crash fixtures and the benchmark: the stream runtime
 * around the same handler map the service declares, with the same retry bounds.
 */
import type { ServiceName } from '@flotilla/contracts'
import { handlerOfMap } from '@flotilla/service-kit'
import { type ConsumerOptions, createConsumer, type StreamHooks, type StreamLogger } from '@flotilla/streams'
import { traceHandler } from '@flotilla/telemetry'
import { type NotificationHandlerDeps, notificationHandlers } from './handlers/index.ts'

export const NOTIFICATIONS_GROUP: ServiceName = 'notifications'

export interface NotificationConsumerOptions {
  readonly redisUrl: string
  readonly stream: string
  readonly handlerDeps: NotificationHandlerDeps
  readonly consumerName?: string
  /** Events handled at once, as one batch. @defaultValue 64 */
  readonly concurrency?: number
  readonly claimIdleMs?: number
  readonly blockMs?: number
  readonly backoff?: { baseMs: number; maxMs: number }
  readonly hooks?: StreamHooks
  readonly logger?: StreamLogger
}

/** Creates (does not start) the consumer; `maxDeliveries` comes from the handler's settings so both agree. */
export const createNotificationConsumer = ({
  handlerDeps,
  concurrency,
  ...options
}: NotificationConsumerOptions) => {
  const handler = handlerOfMap(notificationHandlers(handlerDeps))
  if (!('handle' in handler)) throw new Error('a handler map makes a per-event handler')
  // The caller's stream, consumer name and tuning pass through as given; the group and the bounds are ours.
  const consumerOptions: ConsumerOptions = {
    ...options,
    group: NOTIFICATIONS_GROUP,
    // One consumer span per event, continuing the producer's trace (`traceparent` on the envelope).
    handler: traceHandler({ handle: async (m) => handler.handle(m) }),
    maxDeliveries: handlerDeps.maxDeliveries,
    concurrency: concurrency ?? 64,
  }
  return createConsumer(consumerOptions)
}
