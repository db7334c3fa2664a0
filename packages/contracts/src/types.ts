/** Typed views of decoded events. */

import type { EventType, LatestVersionOf, PayloadOf, VersionOf } from './catalog.ts'
import type { EventEnvelope, Party } from './envelope.ts'

/** The optional envelope fields a producer may set: tenant, parties, correlation and trace. */
export interface EnvelopeContext {
  readonly tenantId?: string
  readonly actor?: Party
  readonly subject?: Party
  readonly correlationId?: string
  /** The id of the event that caused this one. */
  readonly causationId?: string
  readonly traceparent?: string
}

interface EnvelopeFields extends EnvelopeContext {
  readonly id: string
  readonly source: string
  readonly occurredAt: string
}

/** An event of one known type at one version (the latest by default), its payload typed from the catalogue. */
export type EventOf<T extends EventType, V extends VersionOf<T> = LatestVersionOf<T>> = EnvelopeFields & {
  readonly type: T
  readonly version: V
  readonly payload: PayloadOf<T, V>
}

/** An event of one known type at any of its listed versions, discriminated on `version`. */
export type AnyVersionOf<T extends EventType> = { [V in VersionOf<T>]: EventOf<T, V> }[VersionOf<T>]

/** Any known event at any listed version, discriminated on `type`, then on `version`. */
export type KnownEvent = { [T in EventType]: AnyVersionOf<T> }[EventType]

/** An event the catalogue does not know (or a version it does not know): the envelope with an opaque payload. */
export type OpaqueEvent = EventEnvelope

/** What a consumer sees: a known, strictly validated event, or an opaque one. */
export type AnyEvent = KnownEvent | OpaqueEvent
