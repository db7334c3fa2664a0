/**
 * Migrations of a PostgreSQL store, run at boot under a session advisory lock (`pg_advisory_lock`) keyed by
 * the store and the schema: replicas booting together queue on the lock, and each later one finds the steps
 * recorded and skips them, so the schema is migrated once. Each step runs in its own transaction with its
 * record in the store's migrations table. Needs a session of its own (not a PgBouncer transaction pool).
 */
import type { Sql } from 'postgres'
import type { Migration } from '../libsql/migrate.ts'

export interface PostgresMigrateOptions {
  /** The table recording applied steps (one per store, so stores can share a schema). */
  readonly table: string
  /** The advisory lock's name; the schema is added to it, so stores in other schemas never wait. */
  readonly lockName: string
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/

/**
 * Applies, in list order, every migration not yet recorded; returns the names it applied.
 * @example await migratePostgres(sql, MIGRATIONS, { table: 'analytics_schema_migrations', lockName: 'flotilla.analytics.migrate' })
 */
export const migratePostgres = async (
  sql: Sql,
  migrations: readonly Migration[],
  { table, lockName }: PostgresMigrateOptions,
): Promise<string[]> => {
  if (!IDENTIFIER.test(table)) throw new Error(`migrations table "${table}" is not a plain identifier`)
  const names = new Set<string>()
  for (const { name } of migrations) {
    if (names.has(name)) throw new Error(`migration "${name}" is listed twice`)
    names.add(name)
  }
  const lockKey = `hashtext(${literal(`${lockName}:`)} || coalesce(current_schema(), ''))`
  // One connection for the whole run: a session lock belongs to the connection that took it.
  const session = await sql.reserve()
  try {
    await session.unsafe(`SELECT pg_advisory_lock(${lockKey})`)
    try {
      // Created only when missing: a serving role without CREATE on the schema boots on an up-to-date schema.
      const [found] = await session.unsafe<{ found: string | null }[]>(
        `SELECT to_regclass(quote_ident(current_schema()) || '.${table}')::text AS found`,
      )
      if (!found?.found) {
        await session.unsafe(
          `CREATE TABLE ${table} (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
        )
      }
      const rows = await session.unsafe<{ name: string }[]>(`SELECT name FROM ${table}`)
      const recorded = new Set(rows.map((r) => r.name))
      const applied: string[] = []
      for (const migration of migrations) {
        if (recorded.has(migration.name)) continue
        await session.unsafe('BEGIN')
        try {
          const wanted = migration.when === undefined || (await session.unsafe(migration.when)).length > 0
          if (wanted) for (const statement of migration.statements) await session.unsafe(statement)
          await session.unsafe(`INSERT INTO ${table} (name) VALUES ($1)`, [migration.name])
          await session.unsafe('COMMIT')
        } catch (error) {
          await session.unsafe('ROLLBACK').catch(() => {})
          throw error
        }
        applied.push(migration.name)
      }
      return applied
    } finally {
      await session.unsafe(`SELECT pg_advisory_unlock(${lockKey})`).catch(() => {})
    }
  } finally {
    session.release()
  }
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/**
 * A libSQL migration's DDL as PostgreSQL DDL, so a store whose tables use only portable types writes its
 * schema once: INTEGER becomes BIGINT (every integer column here holds epoch milliseconds or counts), BLOB
 * becomes BYTEA, REAL DOUBLE PRECISION, and `WITHOUT ROWID` (a SQLite storage choice) goes.
 */
export const postgresDdlOf = (migrations: readonly Migration[]): Migration[] =>
  migrations.map(({ name, statements, when }) => ({
    name,
    ...(when === undefined ? {} : { when }),
    statements: statements.map((statement) => {
      if (/\bAUTOINCREMENT\b|\bCREATE\s+TRIGGER\b|\bPRAGMA\b/i.test(statement))
        throw new Error(`migration "${name}": not portable to PostgreSQL: ${statement.slice(0, 60)}`)
      return statement
        .replace(/\bINTEGER\b/gi, 'BIGINT')
        .replace(/\bBLOB\b/gi, 'BYTEA')
        .replace(/\bREAL\b/gi, 'DOUBLE PRECISION')
        .replace(/\)\s*WITHOUT ROWID/gi, ')')
    }),
  }))
