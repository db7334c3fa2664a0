/** Migrations at boot: the monolith's own tables, then the Flotilla outbox (each with its own journal). */
import { join } from 'node:path'
import { migrateOutbox } from '@flotilla/sdk'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import type { Sql } from 'postgres'

/**
 * Applies pending migrations. Holds a session advisory lock meanwhile, so a monolith and a relay process
 * booting together do not both try to create the same tables.
 */
export const migrateDatabase = async (sql: Sql, schema: string): Promise<void> => {
  const lock = await sql.reserve()
  try {
    await lock`select pg_advisory_lock(hashtext(${`${schema}.monolith-migrations`}))`
    await sql.unsafe(`create schema if not exists "${schema}"`)
    await migrate(drizzle({ client: sql }), {
      migrationsFolder: join(import.meta.dir, '..', '..', 'drizzle'),
      migrationsSchema: schema,
    })
    await migrateOutbox(sql, { migrationsSchema: schema })
  } finally {
    await lock`select pg_advisory_unlock(hashtext(${`${schema}.monolith-migrations`}))`.catch(() => {})
    lock.release()
  }
}
