/** Hand-written SQL migrations, applied in order at start and recorded in `schema_migrations`. */
import type { Client } from '@libsql/client'

/** Each entry runs once, in its own transaction. Append only; never edit a released one. */
export const MIGRATIONS: readonly {
  readonly id: number
  readonly name: string
  readonly sql: readonly string[]
}[] = [
  {
    id: 1,
    name: 'initial',
    sql: [
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

/**
 * Applies the migrations not yet recorded. Safe when several instances start at once: each migration
 * runs in a write transaction that re-checks whether it was applied.
 */
export const migrate = async (client: Client): Promise<number[]> => {
  await client.execute(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  )
  const applied: number[] = []
  for (const migration of MIGRATIONS) {
    const tx = await client.transaction('write')
    try {
      const done = await tx.execute({
        sql: 'SELECT 1 FROM schema_migrations WHERE id = ?',
        args: [migration.id],
      })
      if (done.rows.length === 0) {
        for (const statement of migration.sql) await tx.execute(statement)
        await tx.execute({
          sql: 'INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)',
          args: [migration.id, migration.name, Date.now()],
        })
        applied.push(migration.id)
      }
      await tx.commit()
    } finally {
      tx.close()
    }
  }
  return applied
}
