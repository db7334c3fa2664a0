/** The event envelope: the wire contract every producer and consumer shares (docs/pitfalls.md, "The wire contract"). */
import { type Static, type TSchema, Type } from '@sinclair/typebox'

/** Dotted, lower-case, at least two segments: `user.registered`, `auth.session.created`. */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
/** ISO-8601 in UTC with a `Z` suffix, optional fraction. */
const UTC_TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$'
/** W3C trace context `traceparent` header value. */
export const TRACEPARENT_PATTERN = '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
const SERVICE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$'

const Id = Type.String({ minLength: 1, maxLength: 200 })

/** Who did it, or what it happened to: `{ type: 'user', id: 'u_1' }`. */
export const Party = Type.Object(
  { type: Type.String({ minLength: 1, maxLength: 64 }), id: Id },
  { additionalProperties: false },
)
export type Party = Static<typeof Party>

const envelopeFields = {
  id: Type.String({ pattern: UUID_PATTERN, description: 'UUID; the idempotency key everywhere' }),
  type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 128, description: 'dotted, past tense' }),
  version: Type.Integer({ minimum: 1, description: 'payload version, per type' }),
  source: Type.String({ pattern: SERVICE_NAME_PATTERN, description: 'producing service' }),
  occurredAt: Type.String({ pattern: UTC_TIMESTAMP_PATTERN, description: 'ISO-8601 UTC' }),
  tenantId: Type.Optional(Id),
  actor: Type.Optional(Party),
  subject: Type.Optional(Party),
  correlationId: Type.Optional(Id),
  causationId: Type.Optional(Id),
  traceparent: Type.Optional(Type.String({ pattern: TRACEPARENT_PATTERN })),
}

/** Builds the envelope schema around one payload schema. */
export const envelopeOf = <P extends TSchema>(payload: P, type?: string) =>
  Type.Object(
    { ...envelopeFields, ...(type ? { type: Type.Literal(type) } : {}), payload },
    { additionalProperties: false },
  )

/** Any event: the envelope with an opaque object payload (what audit and analytics accept). */
export const EventEnvelope = envelopeOf(Type.Record(Type.String(), Type.Unknown()))
export type EventEnvelope = Static<typeof EventEnvelope>
