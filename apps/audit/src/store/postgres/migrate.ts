/**
 * Migrations of the PostgreSQL audit store, run at boot under a session advisory lock (`pg_advisory_lock`)
 * keyed by the schema: replicas booting together queue on the lock, and each later one finds the steps
 * recorded and skips them, so the schema is migrated once. Each step runs in its own transaction with its
 * record in `audit_schema_migrations`. Needs a session of its own (not a PgBouncer transaction pool).
 */
import type { Migration } from '@flotilla/service-kit'
import type { Sql } from 'postgres'

const LOCK_KEY = "hashtext('flotilla.audit.migrate:' || coalesce(current_schema(), ''))"

/** Applies, in list order, every migration not yet recorded; returns the names it applied. */
export const migratePostgres = async (sql: Sql, migrations: readonly Migration[]): Promise<string[]> => {
  const names = new Set<string>()
  for (const { name } of migrations) {
    if (names.has(name)) throw new Error(`migration "${name}" is listed twice`)
    names.add(name)
  }
  // One connection for the whole run: a session lock belongs to the connection that took it.
  const session = await sql.reserve()
  try {
    await session.unsafe(`SELECT pg_advisory_lock(${LOCK_KEY})`)
    try {
      // Created only when missing: a serving role without CREATE on the schema boots on an up-to-date schema.
      const [table] = await session.unsafe<{ found: string | null }[]>(
        "SELECT to_regclass(quote_ident(current_schema()) || '.audit_schema_migrations')::text AS found",
      )
      if (!table?.found) {
        await session.unsafe(
          'CREATE TABLE audit_schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        )
      }
      const rows = await session.unsafe<{ name: string }[]>('SELECT name FROM audit_schema_migrations')
      const recorded = new Set(rows.map((r) => r.name))
      const applied: string[] = []
      for (const migration of migrations) {
        if (recorded.has(migration.name)) continue
        await session.unsafe('BEGIN')
        try {
          for (const statement of migration.statements) await session.unsafe(statement)
          await session.unsafe('INSERT INTO audit_schema_migrations (name) VALUES ($1)', [migration.name])
          await session.unsafe('COMMIT')
        } catch (error) {
          await session.unsafe('ROLLBACK').catch(() => {})
          throw error
        }
        applied.push(migration.name)
      }
      return applied
    } finally {
      await session.unsafe(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => {})
    }
  } finally {
    session.release()
  }
}
