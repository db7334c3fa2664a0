/** Turns a decoded event into the input of an audit record. */
import type { AnyEvent } from '@flotilla/contracts'
import { GLOBAL_CHAIN, type RecordInput } from './model.ts'

/** The chain an event belongs to: its tenant, or the global chain. */
export const chainOf = (tenantId: string | null | undefined): string => tenantId ?? GLOBAL_CHAIN

/** The verb of a dotted type: `user.login.failed` → `failed`. */
export const actionOf = (type: string): string => type.slice(type.lastIndexOf('.') + 1)

/** Maps an envelope (known or opaque) to a record input stamped with the time audit received it. */
export const recordInputOf = (event: AnyEvent, receivedAt: Date): RecordInput => ({
  eventId: event.id,
  type: event.type,
  version: event.version,
  action: actionOf(event.type),
  tenantId: event.tenantId ?? null,
  actorType: event.actor?.type ?? null,
  actorId: event.actor?.id ?? null,
  subjectType: event.subject?.type ?? null,
  subjectId: event.subject?.id ?? null,
  source: event.source,
  occurredAt: event.occurredAt,
  receivedAt: receivedAt.toISOString(),
  correlationId: event.correlationId ?? null,
  causationId: event.causationId ?? null,
  payload: event.payload as Record<string, unknown>,
})
