/** Opens the analytics database (a libSQL file by default, or a `libsql://` server) and migrates it. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { type Client, createClient } from '@libsql/client'
import { Mutex, queueClient } from '@flotilla/service-kit'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { migrate } from './migrations.ts'
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

// One writer at a time per database file in this process (the kit's queueClient says why); a pooled client in
// WAL mode, so reads go straight through.
const writeLocks = new Map<string, Mutex>()
const writeLockOf = (url: string): Mutex => {
  let mutex = writeLocks.get(url)
  if (!mutex) {
    mutex = new Mutex()
    writeLocks.set(url, mutex)
  }
  return mutex
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
  const client = local ? queueClient(raw, writeLockOf(url), { reads: 'direct' }) : raw
  // `synchronous` is left at FULL (the default): a batch is acked once committed, so the commit must be on disk.
  if (local) await client.execute('PRAGMA journal_mode = WAL')
  await migrate(client)
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
