/** Writing events into the outbox inside the caller's own business transaction. */
import { type AnyEvent, assertValidEvent } from '@flotilla/contracts'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { flotillaOutbox } from './schema.ts'

/** Anything drizzle can insert with: a transaction (`db.transaction(tx => …)`) or, outside one, the database. */
export interface OutboxWriter<Q extends PgQueryResultHKT = PgQueryResultHKT> {
  insert: PgDatabase<Q>['insert']
}

/**
 * Adds events to the outbox in the caller's transaction: they reach the stream only if it commits, and
 * then at least once with the same envelope id. Each event is validated first, so a bad event fails the
 * business transaction instead of poisoning the relay later.
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.insert(users).values(user)
 *   await enqueue(tx, createEvent('user.registered', { userId: user.id, email }, { source: 'monolith' }))
 * })
 */
export const enqueue = async <Q extends PgQueryResultHKT>(
  tx: OutboxWriter<Q>,
  events: AnyEvent | readonly AnyEvent[],
): Promise<string[]> => {
  const list: readonly AnyEvent[] = Array.isArray(events) ? events : [events as AnyEvent]
  if (list.length === 0) return []
  for (const event of list) assertValidEvent(event)
  await tx
    .insert(flotillaOutbox)
    .values(list.map((event) => ({ eventId: event.id, type: event.type, event })))
  return list.map((event) => event.id)
}
