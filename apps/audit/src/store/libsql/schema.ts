/** Drizzle schema of the libSQL audit store (the migrations with its append-only triggers are in migrations.ts). */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const auditRecords = sqliteTable(
  'audit_records',
  {
    eventId: text('event_id').primaryKey(),
    chain: text('chain').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    version: integer('version').notNull(),
    action: text('action').notNull(),
    tenantId: text('tenant_id'),
    actorType: text('actor_type'),
    actorId: text('actor_id'),
    subjectType: text('subject_type'),
    subjectId: text('subject_id'),
    source: text('source').notNull(),
    occurredAt: text('occurred_at').notNull(),
    // Milliseconds since the epoch: ISO strings of different precision do not sort as text.
    occurredMs: integer('occurred_ms').notNull(),
    receivedAt: text('received_at').notNull(),
    correlationId: text('correlation_id'),
    causationId: text('causation_id'),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (r) => [
    uniqueIndex('audit_records_chain_seq').on(r.chain, r.seq),
    index('audit_records_time').on(r.occurredMs, r.eventId),
    index('audit_records_tenant_time').on(r.tenantId, r.occurredMs, r.eventId),
    index('audit_records_actor_time').on(r.actorId, r.occurredMs),
    index('audit_records_type_time').on(r.type, r.occurredMs),
    index('audit_records_subject_time').on(r.subjectId, r.occurredMs),
    index('audit_records_correlation').on(r.correlationId),
    index('audit_records_chain_received').on(r.chain, r.receivedAt),
  ],
)

export const auditAnchors = sqliteTable('audit_anchors', {
  chain: text('chain').primaryKey(),
  seq: integer('seq').notNull(),
  hash: text('hash').notNull(),
  prunedAt: text('pruned_at').notNull(),
})

/** Holds a row only inside a pruning transaction; the DELETE trigger refuses deletes without it. */
export const auditRetentionMode = sqliteTable('audit_retention_mode', {
  id: integer('id').primaryKey(),
})

/** Every chain ever written (filled by append), so listing chains never scans the records. */
export const auditChains = sqliteTable('audit_chains', {
  chain: text('chain').primaryKey(),
})

/** Ids of events whose records retention deleted: replays of them stay duplicates. */
export const auditPrunedEvents = sqliteTable('audit_pruned_events', {
  eventId: text('event_id').primaryKey(),
  chain: text('chain').notNull(),
  prunedAt: text('pruned_at').notNull(),
})
