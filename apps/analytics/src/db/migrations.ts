/** Hand-written SQL migrations, applied in order at start by the kit's `migrate` (recorded in `schema_migrations`). */
import type { Migration } from '@flotilla/service-kit'

/** Each entry runs once, in its own transaction. Append only; never edit or rename a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial',
    statements: [
      `CREATE TABLE counts (
          grain TEXT NOT NULL, bucket INTEGER NOT NULL, tenant_id TEXT NOT NULL,
          type TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
          PRIMARY KEY (grain, bucket, tenant_id, type, source)
        ) WITHOUT ROWID`,
      `CREATE TABLE processed_events (id TEXT PRIMARY KEY, processed_at INTEGER NOT NULL) WITHOUT ROWID`,
      'CREATE INDEX processed_events_at ON processed_events (processed_at)',
      `CREATE TABLE dirty_buckets (grain TEXT NOT NULL, bucket INTEGER NOT NULL, PRIMARY KEY (grain, bucket))
          WITHOUT ROWID`,
      `CREATE TABLE uniques_daily (
          day INTEGER NOT NULL, tenant_id TEXT NOT NULL, type TEXT NOT NULL, hll BLOB NOT NULL,
          updated_at INTEGER NOT NULL, PRIMARY KEY (day, tenant_id, type)
        )`,
      `CREATE TABLE duration_sketches (
          bucket INTEGER NOT NULL, tenant_id TEXT NOT NULL, type TEXT NOT NULL, sketch BLOB NOT NULL,
          PRIMARY KEY (bucket, tenant_id, type)
        )`,
      `CREATE TABLE job_runs (
          job TEXT NOT NULL, slot INTEGER NOT NULL, instance TEXT NOT NULL, started_at INTEGER NOT NULL,
          finished_at INTEGER, result TEXT, PRIMARY KEY (job, slot)
        )`,
      'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    ],
  },
]
