/**
 * Hand-written SQL migrations for a libSQL database: an ordered list of named steps, each applied once, in its
 * own write transaction, and recorded in `schema_migrations`. Safe when several processes boot at once.
 */
import type { Client } from '@libsql/client'
import { type RetryWhileBusyOptions, retryWhileBusy } from './busy.ts'

/** One step. Append new ones; never edit, rename or reorder one that has shipped (its name is its identity). */
export interface Migration {
  /** Unique within the list; recorded once applied. */
  readonly name: string
  /** Run in order, in one transaction with the record of the step. */
  readonly statements: readonly string[]
  /**
   * A query run first, in the step's transaction: the statements run only if it returns a row. The step is
   * recorded either way, so what it decided holds for good.
   */
  readonly when?: string
}

export interface MigrateOptions {
  /** How long to wait for another process's write lock (each step retries while busy). @defaultValue 30 s */
  readonly busy?: RetryWhileBusyOptions
}

// `version` is the integer primary key (the rowid): older tables named it `id`, and only `name` and
// `applied_at` are ever written or read, so a table created by either earlier runner keeps working.
const CREATE_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)'
const IS_APPLIED = 'SELECT 1 FROM schema_migrations WHERE name = ? LIMIT 1'
const HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
const APPLIED = 'SELECT name FROM schema_migrations'
const RECORD = 'INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)'

/**
 * Applies, in list order, every migration not yet recorded, and returns the names it applied. Each pending step
 * runs in a write transaction that first re-checks the record, so when two processes boot at once the second waits for the
 * first's lock and then skips what it applied; a failing step rolls back whole (nothing of it, nor its record,
 * stays) and the error is thrown, leaving the steps before it applied.
 * @example await migrate(client, [{ name: 'initial', statements: ['CREATE TABLE counts (…)'] }])
 */
export const migrate = async (
  client: Client,
  migrations: readonly Migration[],
  { busy }: MigrateOptions = {},
): Promise<string[]> => {
  const names = new Set<string>()
  for (const { name } of migrations) {
    if (names.has(name)) throw new Error(`migration "${name}" is listed twice`)
    names.add(name)
  }
  // Reads first: a boot with nothing to apply (nearly every boot) takes no write lock, so processes starting
  // together on an up-to-date file never queue behind one another.
  const hasTable = (await client.execute(HAS_TABLE)).rows.length > 0
  if (!hasTable) await retryWhileBusy(() => client.execute(CREATE_TABLE), busy)
  const recorded = hasTable
    ? new Set((await client.execute(APPLIED)).rows.map((r) => String(r.name)))
    : new Set<string>()
  const applied: string[] = []
  for (const migration of migrations) {
    if (recorded.has(migration.name)) continue
    const ran = await retryWhileBusy(async () => {
      const tx = await client.transaction('write')
      try {
        const done = await tx.execute({ sql: IS_APPLIED, args: [migration.name] })
        if (done.rows.length > 0) {
          await tx.commit()
          return false
        }
        const wanted = migration.when === undefined || (await tx.execute(migration.when)).rows.length > 0
        if (wanted) for (const statement of migration.statements) await tx.execute(statement)
        await tx.execute({ sql: RECORD, args: [migration.name, Date.now()] })
        await tx.commit()
        return true
      } finally {
        tx.close()
      }
    }, busy)
    if (ran) applied.push(migration.name)
  }
  return applied
}
