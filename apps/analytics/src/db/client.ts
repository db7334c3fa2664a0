/** Opens the analytics database (a libSQL file by default, or a `libsql://` server) and migrates it. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { migrate, mutexFor, queueClient } from '@flotilla/service-kit'
import { type Client, createClient } from '@libsql/client'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { MIGRATIONS } from './migrations.ts'
import * as schema from './schema.ts'

/** Drizzle over the client; `$client` is for the few hot statements written by hand (`ingest/statements.ts`). */
export type Db = LibSQLDatabase<typeof schema> & { readonly $client: Client }

export interface Database {
  readonly client: Client
  readonly db: Db
  close(): void
}

export interface OpenDatabaseOptions {
  readonly url: string
  readonly authToken?: string
}

/**
 * Opens and migrates the database. Local files run in WAL mode with a busy timeout, so a second
 * instance on the same file waits for the writer instead of failing.
 */
export const openDatabase = async ({ url, authToken }: OpenDatabaseOptions): Promise<Database> => {
  const local = url.startsWith('file:')
  if (local) mkdirSync(dirname(url.slice('file:'.length)), { recursive: true })
  const raw = createClient({
    url,
    ...(authToken ? { authToken } : {}),
    ...(local ? { timeout: 10_000 } : {}),
  })
  // One writer at a time per file in this process; a pooled client in WAL mode, so reads go straight through.
  const client = local ? queueClient(raw, mutexFor(url), { reads: 'direct' }) : raw
  // `synchronous` is left at FULL (the default): a batch is acked once committed, so the commit must be on disk.
  if (local) await client.execute('PRAGMA journal_mode = WAL')
  await migrate(client, MIGRATIONS)
  let closed = false
  return {
    client,
    db: drizzle(client, { schema }),
    close() {
      if (closed) return
      closed = true
      client.close()
    },
  }
}
