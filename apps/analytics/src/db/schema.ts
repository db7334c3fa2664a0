/** Drizzle table definitions; the SQL that creates them lives in `migrations.ts`. */
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Bucket sizes the store keeps: minutes from ingest, hours and days from rollups. */
export const GRAINS = ['minute', 'hour', 'day'] as const
export type Grain = (typeof GRAINS)[number]

/** Event counts per (grain, bucket start, tenant, type, source). Tenant `''` = no tenant. */
export const counts = sqliteTable(
  'counts',
  {
    grain: text('grain').$type<Grain>().notNull(),
    bucket: integer('bucket').notNull(),
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    source: text('source').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.grain, t.bucket, t.tenantId, t.type, t.source] })],
)

/** Envelope ids already counted, written in the same transaction as the counters. */
export const processedEvents = sqliteTable(
  'processed_events',
  {
    id: text('id').primaryKey(),
    processedAt: integer('processed_at').notNull(),
  },
  (t) => [index('processed_events_at').on(t.processedAt)],
)

/** Hour / day buckets whose rollup is stale because finer rows changed since. */
export const dirtyBuckets = sqliteTable(
  'dirty_buckets',
  {
    grain: text('grain').$type<Grain>().notNull(),
    bucket: integer('bucket').notNull(),
  },
  (t) => [primaryKey({ columns: [t.grain, t.bucket] })],
)

/** Daily HyperLogLog sketches (the Redis string dump), so uniques outlive Redis. */
export const uniquesDaily = sqliteTable(
  'uniques_daily',
  {
    day: integer('day').notNull(),
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    hll: blob('hll', { mode: 'buffer' }).notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.tenantId, t.type] })],
)

/** Mergeable DDSketch (protobuf) of `payload.durationMs` per hour, tenant and type. */
export const durationSketches = sqliteTable(
  'duration_sketches',
  {
    bucket: integer('bucket').notNull(),
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    sketch: blob('sketch', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.tenantId, t.type] })],
)

/** One row per scheduled job run (job, time slot), for the dashboard; the slot claim itself lives in Redis. */
export const jobRuns = sqliteTable(
  'job_runs',
  {
    job: text('job').notNull(),
    slot: integer('slot').notNull(),
    instance: text('instance').notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    result: text('result'),
  },
  (t) => [primaryKey({ columns: [t.job, t.slot] })],
)

/** Small key/value state (compaction watermarks). */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})
