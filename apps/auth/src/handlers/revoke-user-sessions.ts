/**
 * Revokes every session of a user because of an event, idempotently on the event id: the set of
 * sessions to revoke is recorded on the first delivery, each `auth.session.revoked` gets an id derived
 * from (event id, session id), so a redelivery after a crash republishes the very same facts and
 * consumers drop the duplicates.
 */
import type { AnyEvent } from '@flotilla/contracts'
import type { RevocationWriter } from '@flotilla/service-kit'
import type { RedisClient } from '@flotilla/streams'
import type { DeviceStore } from '../devices/store.ts'
import { type EventSink, emit } from '../events.ts'
import type { Logger } from '../logger.ts'
import type { AuthObserver } from '../observe.ts'
import type { FactOutbox } from '../outbox/outbox.ts'
import { sessionRevokedFact } from '../sessions/facts.ts'
import type { SessionRevokedReason } from '../sessions/model.ts'
import type { SessionStore } from '../sessions/store.ts'

export interface RevocationDeps {
  readonly redis: RedisClient
  readonly prefix: string
  readonly sessions: SessionStore
  readonly devices: DeviceStore
  readonly events: EventSink
  /** Where each revocation's fact waits until it is published (`outbox/outbox.ts`). */
  readonly outbox: FactOutbox
  readonly logger: Logger
  /** Counts the revocations (`createAuthMetrics`). */
  readonly observer?: AuthObserver
  /** Announces "every token of this user issued before…" to every verifier. */
  readonly revocations: Pick<RevocationWriter, 'revokeUserBefore'>
}

/** How long an event's revocation record is kept (longer than any redelivery). */
const RECORD_TTL_SECONDS = 7 * 24 * 3600

/** A UUID (version 8, RFC 9562) derived from a name: the same input always gives the same id. */
const derivedEventId = (name: string): string => {
  const hex = new Bun.CryptoHasher('sha256').update(name).digest('hex').slice(0, 32).split('')
  hex[12] = '8'
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export interface RevokeForEventOptions {
  readonly userId: string
  readonly reason: SessionRevokedReason
  /** Only sessions created at or before this time (ms): a sign-in after a password change survives. */
  readonly createdBefore?: number
  /** This session of the user stays (the one a password was changed from). */
  readonly keepSessionId?: string
  /** Also forget the user's devices (user deleted). */
  readonly forgetDevices?: boolean
}

/** Revokes a user's sessions for one event; returns how many sessions it covered. */
export const revokeForEvent = async (
  deps: RevocationDeps,
  event: AnyEvent,
  options: RevokeForEventOptions,
) => {
  const doneKey = `${deps.prefix}evt:{${event.id}}:done`
  const listKey = `${deps.prefix}evt:{${event.id}}:sessions`
  if (await deps.redis.exists(doneKey)) return 0
  // Before the sessions: every token of the user issued before the event is refused everywhere, including tokens
  // of a session the index missed. A redelivery records the same time again (idempotent).
  await deps.revocations.revokeUserBefore(
    options.userId,
    options.createdBefore ?? Date.parse(event.occurredAt),
  )
  let recorded = await deps.redis.get(listKey)
  if (recorded === null) {
    const targets: { id: string; tenantId?: string }[] = []
    for (const sid of await deps.sessions.sessionIdsOf(options.userId)) {
      const s = await deps.sessions.get(sid)
      if (!s || s.userId !== options.userId) continue
      if (options.createdBefore !== undefined && s.createdAt > options.createdBefore) continue
      if (s.id === options.keepSessionId) continue
      targets.push({ id: s.id, ...(s.tenantId ? { tenantId: s.tenantId } : {}) })
    }
    // NX: a concurrent delivery of the same event (claimed by another consumer) uses the first list.
    await deps.redis.set(listKey, JSON.stringify(targets), 'EX', RECORD_TTL_SECONDS, 'NX')
    recorded = (await deps.redis.get(listKey)) ?? '[]'
  }
  const targets = JSON.parse(recorded) as { id: string; tenantId?: string }[]
  const cause = {
    causationId: event.id,
    ...(event.correlationId ? { correlationId: event.correlationId } : {}),
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
    ...(event.actor ? { actor: event.actor } : {}),
  }
  const facts = targets.map((t) => {
    const tenantId = t.tenantId ?? event.tenantId
    return sessionRevokedFact(
      { id: t.id, userId: options.userId, ...(tenantId !== undefined ? { tenantId } : {}) },
      options.reason,
      cause,
      derivedEventId(`${event.id}:${t.id}:revoked`),
    )
  })
  // Each revocation writes its fact to the session's outbox in the same script: should every delivery fail to
  // publish (the event then ends in the dead letters), the relay still publishes it.
  for (const [i, target] of targets.entries())
    await deps.sessions.revokeWithFacts(target.id, (s) =>
      s.userId === options.userId ? [facts[i] as AnyEvent] : [],
    )
  if (options.forgetDevices) await deps.devices.removeAll(options.userId)
  // Strict: a failed publish fails the delivery, and the redelivery republishes the same ids.
  await emit(deps.events, deps.logger, facts, true)
  await deps.outbox.forget(targets.map((t, i) => [t.id, facts[i]?.id ?? ''] as const))
  deps.observer?.sessionsRevoked(options.reason, targets.length)
  await deps.redis.set(doneKey, '1', 'EX', RECORD_TTL_SECONDS)
  deps.logger.info(
    { eventId: event.id, userId: options.userId, sessions: targets.length },
    'sessions revoked',
  )
  return targets.length
}
