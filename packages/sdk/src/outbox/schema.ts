/** The transactional outbox table (drizzle schema; the SQL migration in `drizzle/` is generated from it). */
import type { AnyEvent } from '@flotilla/contracts'
import { sql } from 'drizzle-orm'
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

/** Name of the outbox table. Unqualified on purpose: it lives in the schema the connection's `search_path` names. */
export const OUTBOX_TABLE = 'flotilla_outbox'

/** The channel the insert trigger notifies (payload: the table's schema) so relays wake at once. */
export const OUTBOX_CHANNEL = 'flotilla_outbox'

/**
 * One row per event the monolith wrote inside its own business transaction.
 * Pending = `sent_at` and `failed_at` both null; the relay publishes pending rows in `id` order.
 */
export const flotillaOutbox = pgTable(
  OUTBOX_TABLE,
  {
    /** Insertion order; the relay publishes in this order. */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The envelope id: the same on every publish of this row, so consumers deduplicate a re-send. */
    eventId: uuid('event_id').notNull().unique(),
    type: text('type').notNull(),
    event: jsonb('event').$type<AnyEvent>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set in the same transaction that published the row; sent rows are pruned after the retention. */
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** Publish attempts that failed (the row stays pending and is retried). */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Set when the row can never be published (it breaks the contract); it no longer blocks the rows after it. */
    failedAt: timestamp('failed_at', { withTimezone: true }),
  },
  (table) => [
    index('flotilla_outbox_pending_idx')
      .on(table.id)
      .where(sql`${table.sentAt} is null and ${table.failedAt} is null`),
    index('flotilla_outbox_sent_at_idx').on(table.sentAt).where(sql`${table.sentAt} is not null`),
  ],
)

/** A row as selected. */
export type OutboxRow = typeof flotillaOutbox.$inferSelect
