/** The analytics database on libSQL (a local file by default, or a `libsql://` server), migrated at open. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { localPathOf, migrate, mutexFor, queueClient } from '@flotilla/service-kit'
import { createClient, type Transaction } from '@libsql/client'
import { drizzle } from 'drizzle-orm/libsql'
import { type LocalIngest, openLocalIngest } from './libsql-local-ingest.ts'
import { ingestTxOn } from './libsql-statements.ts'
import { MIGRATIONS } from './migrations.ts'
import type { Database, IngestTx, Queries } from './types.ts'

const BUSY_TIMEOUT_MS = 10_000

type Drizzle = ReturnType<typeof drizzle>
type DrizzleTx = Parameters<Parameters<Drizzle['transaction']>[0]>[0]

const queriesOf = (q: Drizzle | DrizzleTx): Queries => ({
  all: (query) => q.all(query),
  run: async (query) => ({ rowsAffected: (await q.run(query)).rowsAffected }),
})

/** The counting statements on a @libsql/client write transaction. */
const ingestTx = (tx: Transaction): IngestTx =>
  ingestTxOn({
    run: async (sql, args = []) => (await tx.execute({ sql, args: [...args] })).rowsAffected,
    rows: async (sql, args) => (await tx.execute({ sql, args: [...args] })).rows,
    runEach: (sql, argLists) => tx.batch(argLists.map((args) => ({ sql, args: [...args] }))),
  })

/**
 * Opens and migrates the database. Local files run in WAL mode with a busy timeout, so a second
 * instance on the same file waits for the writer instead of failing.
 */
export const openLibsqlDatabase = async ({
  url,
  authToken,
}: {
  url: string
  authToken?: string | undefined
}): Promise<Database> => {
  const local = url.startsWith('file:')
  if (local) mkdirSync(dirname(url.slice('file:'.length)), { recursive: true })
  const raw = createClient({
    url,
    ...(authToken ? { authToken } : {}),
    ...(local ? { timeout: BUSY_TIMEOUT_MS } : {}),
  })
  // One writer at a time per file in this process; a pooled client in WAL mode, so reads go straight through.
  const lock = mutexFor(url)
  const client = local ? queueClient(raw, lock, { reads: 'direct' }) : raw
  // `synchronous` is left at FULL (the default): a batch is acked once committed, so the commit must be on disk.
  if (local) await client.execute('PRAGMA journal_mode = WAL')
  await migrate(client, MIGRATIONS)
  const drz = drizzle(client)
  // A plain local file counts on its own driver connection with kept statements (libsql-local-ingest.ts),
  // under the same lock as the client's writers, so the two never wait on each other's busy handler.
  const localPath = localPathOf(url)
  let localIngest: LocalIngest | null = null
  if (localPath !== null) {
    try {
      localIngest = openLocalIngest(localPath, BUSY_TIMEOUT_MS)
    } catch (error) {
      raw.close()
      throw error
    }
  }
  let closed = false
  return {
    db: {
      dialect: 'sqlite',
      ...queriesOf(drz),
      transaction: (fn) => drz.transaction((tx) => fn(queriesOf(tx))),
      async ingest(fn) {
        if (localIngest) {
          const on = localIngest
          return lock.run(() => on.ingest(fn))
        }
        const tx = await client.transaction('write')
        try {
          const result = await fn(ingestTx(tx))
          await tx.commit()
          return result
        } finally {
          // Rolls back unless committed; gives the connection (and the write lock) back either way.
          tx.close()
        }
      },
    },
    exec: async (statement) => {
      await client.execute(statement)
    },
    check: () => client.execute('SELECT 1'),
    async close() {
      if (closed) return
      closed = true
      localIngest?.close()
      client.close()
    },
  }
}
