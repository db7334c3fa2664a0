/** Applies the outbox migration (the SQL drizzle-kit generated from `schema.ts`, plus the notify trigger). */
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import type { Sql } from 'postgres'

/** The folder of SQL migrations, for apps that copy them into their own migration tool. */
// `../../drizzle` from both `src/outbox/` (Bun, the workspace) and `dist/outbox/` (Node, the package).
export const OUTBOX_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

export interface MigrateOutboxOptions {
  /** Where drizzle records applied migrations. @defaultValue 'drizzle' */
  readonly migrationsSchema?: string
  /** Kept apart from the app's own journal. @defaultValue '__flotilla_outbox_migrations' */
  readonly migrationsTable?: string
}

/**
 * Creates (or upgrades) `flotilla_outbox` in the first schema of the connection's `search_path`. Safe to
 * run at every boot: applied migrations are skipped.
 */
export const migrateOutbox = async (sql: Sql, options: MigrateOutboxOptions = {}): Promise<void> => {
  await migrate(drizzle({ client: sql }), {
    migrationsFolder: OUTBOX_MIGRATIONS_FOLDER,
    migrationsSchema: options.migrationsSchema ?? 'drizzle',
    migrationsTable: options.migrationsTable ?? '__flotilla_outbox_migrations',
  })
}
