/** Builds and publishes the auth service's own facts (`auth.*`) onto the events stream. */
import { type AnyEvent, createEvent, type EventType, type PayloadOf } from '@flotilla/contracts'
import type { Logger } from './logger.ts'

/** Where events go: the streams package's publisher satisfies it. */
export interface EventSink {
  publishBatch(events: AnyEvent[]): Promise<unknown>
}

/** The request or event that caused a fact: copied into the envelope for tracing. */
export interface Cause {
  readonly correlationId?: string
  readonly traceparent?: string
  /** The triggering event's id (consumer handlers). */
  readonly causationId?: string
  readonly actor?: { readonly type: string; readonly id: string }
}

const SOURCE = 'auth'

/** Builds one `auth.*` event with the envelope fields taken from its cause. */
export const authEvent = <T extends EventType>(
  type: T,
  payload: PayloadOf<T>,
  cause: Cause,
  extra: { tenantId?: string; subject?: { type: string; id: string }; id?: string } = {},
) =>
  createEvent(type, payload, {
    source: SOURCE,
    ...(extra.id ? { id: extra.id } : {}),
    ...(extra.tenantId ? { tenantId: extra.tenantId } : {}),
    ...(extra.subject ? { subject: extra.subject } : {}),
    ...(cause.actor ? { actor: cause.actor } : {}),
    ...(cause.correlationId ? { correlationId: cause.correlationId } : {}),
    ...(cause.causationId ? { causationId: cause.causationId } : {}),
    ...(cause.traceparent ? { traceparent: cause.traceparent } : {}),
  })

/**
 * Publishes facts after the state change they describe already happened. `strict` rethrows (consumer
 * handlers: the event is redelivered and republished under the same ids); otherwise a failure is logged
 * and the request still succeeds, since retrying it would repeat the change.
 */
export const emit = async (sink: EventSink, logger: Logger, events: AnyEvent[], strict = false) => {
  if (events.length === 0) return
  try {
    await sink.publishBatch(events)
  } catch (error) {
    logger.error({ err: error, eventIds: events.map((e) => e.id) }, 'publishing auth events failed')
    if (strict) throw error
  }
}
