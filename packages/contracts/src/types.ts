/** Typed views of decoded events. */
import type { EventEnvelope, Party } from './envelope.ts'
import type { EventType, PayloadOf } from './catalog.ts'

interface EnvelopeFields {
  readonly id: string
  readonly version: number
  readonly source: string
  readonly occurredAt: string
  readonly tenantId?: string
  readonly actor?: Party
  readonly subject?: Party
  readonly correlationId?: string
  readonly causationId?: string
  readonly traceparent?: string
}

/** An event of one known type, its payload typed from the catalogue. */
export type EventOf<T extends EventType> = EnvelopeFields & {
  readonly type: T
  readonly payload: PayloadOf<T>
}

/** Any known event, discriminated on `type`. */
export type KnownEvent = { [T in EventType]: EventOf<T> }[EventType]

/** An event the catalogue does not know (or a version it does not know): the envelope with an opaque payload. */
export type OpaqueEvent = EventEnvelope

/** What a consumer sees: a known, strictly validated event, or an opaque one. */
export type AnyEvent = KnownEvent | OpaqueEvent
