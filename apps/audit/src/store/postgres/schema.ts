/** Drizzle schema of the PostgreSQL audit store (the migrations with its append-only triggers are in migrations.ts). */
import { bigint, index, integer, json, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'

export const auditRecords = pgTable(
  'audit_records',
  {
    eventId: text('event_id').primaryKey(),
    chain: text('chain').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    version: integer('version').notNull(),
    action: text('action').notNull(),
    tenantId: text('tenant_id'),
    actorType: text('actor_type'),
    actorId: text('actor_id'),
    subjectType: text('subject_type'),
    subjectId: text('subject_id'),
    source: text('source').notNull(),
    // As the producer wrote it: the hash covers this exact text.
    occurredAt: text('occurred_at').notNull(),
    // Milliseconds since the epoch: what every time filter, sort and bucket uses.
    occurredMs: bigint('occurred_ms', { mode: 'number' }).notNull(),
    receivedAt: text('received_at').notNull(),
    correlationId: text('correlation_id'),
    causationId: text('causation_id'),
    // `json`, not `jsonb`: json keeps the text it was given, and accepts `\u0000` escapes that jsonb refuses.
    payload: json('payload').$type<Record<string, unknown>>().notNull(),
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

export const auditAnchors = pgTable('audit_anchors', {
  chain: text('chain').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  prunedAt: text('pruned_at').notNull(),
})

/** Every chain ever written (filled by append), so listing chains never scans the records. */
export const auditChains = pgTable('audit_chains', {
  chain: text('chain').primaryKey(),
})

/** Ids of events whose records retention deleted: replays of them stay duplicates. */
export const auditPrunedEvents = pgTable('audit_pruned_events', {
  eventId: text('event_id').primaryKey(),
  chain: text('chain').notNull(),
  prunedAt: text('pruned_at').notNull(),
})
