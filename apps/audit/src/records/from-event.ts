/** Turns a decoded event into the input of an audit record. */
import type { AnyEvent } from '@flotilla/contracts'
import { GLOBAL_CHAIN, type RecordInput } from './model.ts'

/** The chain an event belongs to: its tenant, or the global chain. */
export const chainOf = (tenantId: string | null | undefined): string => tenantId ?? GLOBAL_CHAIN

/** The verb of a dotted type: `user.login.failed` → `failed`. */
const actionOf = (type: string): string => type.slice(type.lastIndexOf('.') + 1)

// Stores keep text columns as UTF-8, where a lone surrogate cannot exist (SQLite writes U+FFFD in its place):
// the record takes that form before it is hashed, so the stored text is the hashed text and the chain verifies.
const text = (value: string | undefined): string | null => (value === undefined ? null : value.toWellFormed())

/**
 * Maps an envelope (known or opaque) to a record input stamped with the time audit received it. A batch passes
 * that time once as an ISO string (formatting the Date per record cost 0.12–0.16 µs of CPU per record).
 */
export const recordInputOf = (event: AnyEvent, receivedAt: Date | string): RecordInput => ({
  eventId: event.id,
  type: event.type,
  version: event.version,
  action: actionOf(event.type),
  tenantId: text(event.tenantId),
  actorType: text(event.actor?.type),
  actorId: text(event.actor?.id),
  subjectType: text(event.subject?.type),
  subjectId: text(event.subject?.id),
  source: event.source.toWellFormed(),
  occurredAt: event.occurredAt,
  receivedAt: typeof receivedAt === 'string' ? receivedAt : receivedAt.toISOString(),
  correlationId: text(event.correlationId),
  causationId: text(event.causationId),
  // Inside the payload (stored as JSON text) a lone surrogate is kept as a \uD800 escape: no change needed.
  payload: event.payload as Record<string, unknown>,
})
