/** libSQL audit store via drizzle: a local file by default, a libSQL server URL works too. */
import { localPathOf, migrate, mutexFor, retryWhileBusy } from '@flotilla/service-kit'
import { type Client, createClient } from '@libsql/client'
import { and, eq, lte, sql } from 'drizzle-orm'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import type { RecordInput } from '../../records/model.ts'
import { type Builders, relationalQueries } from '../relational.ts'
import type { GroupedQuery } from '../sql-parts.ts'
import type { AppendResult, AuditStore } from '../types.ts'
import { appendOnClient, type RecordRow } from './append.ts'
import { type LocalAppender, openLocalAppender } from './local-append.ts'
import { AUDIT_MIGRATIONS, CREATE_NO_INSERT_BELOW_ANCHOR } from './migrations.ts'
import { auditAnchors, auditChains, auditRecords, auditRetentionMode } from './schema.ts'

export interface LibsqlStoreOptions {
  /** `file:/path/audit.db` or `libsql://…` */
  readonly url: string
  readonly authToken?: string
  /** How long BEGIN IMMEDIATE waits in SQLite for another process's write lock. @defaultValue 5000 */
  readonly busyTimeoutMs?: number
  /** How long a write waits in total for another writer's lock before failing. @defaultValue 30000 */
  readonly writeDeadlineMs?: number
}

type Db = LibSQLDatabase<Record<string, never>>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

const shared = relationalQueries({ records: auditRecords, anchors: auditAnchors, chains: auditChains })
// Drizzle types its builders per dialect; the shared queries use only calls both answer (relational.ts).
const builders = (db: Db | Tx) => db as unknown as Builders

/** A grouped analytics query as this store runs it (exported so the plan test explains this very query). */
export const groupedSelect = (db: Db, q: GroupedQuery) => shared.groupedSelect(builders(db), q)

/** Opens (and migrates) a libSQL audit store. */
export const createLibsqlStore = async (
  options: LibsqlStoreOptions,
): Promise<AuditStore & { client: Client }> => {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  // A pooled client: a failed BEGIN IMMEDIATE must be collected before its connection can begin again.
  const busy = {
    collectGarbage: true,
    ...(options.writeDeadlineMs === undefined ? {} : { deadlineMs: options.writeDeadlineMs }),
  }
  const client = createClient({
    url: options.url,
    ...(options.authToken ? { authToken: options.authToken } : {}),
    timeout: busyTimeoutMs,
  })
  // Another instance may hold the write lock while this one starts. The PRAGMA returns a row: run it on its
  // own so no half-read statement keeps a stale read snapshot on a pooled connection.
  if (options.url.startsWith('file:')) {
    await retryWhileBusy(() => client.execute('PRAGMA journal_mode = WAL'), busy)
  }
  // Under this process's lock for the file: stores opened together here never wait on SQLite's busy handler.
  await mutexFor(options.url).run(() => migrate(client, AUDIT_MIGRATIONS, { busy }))
  const db: Db = drizzle(client)
  // A local file's append runs on its own driver connection that keeps its prepared statements (local-append.ts).
  const localPath = localPathOf(options.url)
  let local: LocalAppender | null = null
  if (localPath !== null) {
    try {
      local = openLocalAppender(localPath, busyTimeoutMs)
    } catch (error) {
      client.close()
      throw error
    }
  }
  // One write transaction at a time per database in this process; other processes queue on the file lock.
  // One writer at a time per file in this process (the kit's queueClient explains why).
  const lock = mutexFor(options.url)
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => lock.run(fn)
  const write = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    serialize(() => retryWhileBusy(() => db.transaction(fn), busy))

  let closed = false
  return {
    kind: 'libsql',
    client,

    // The hot path (append.ts): on the local driver connection for a file, else on a libSQL transaction;
    // both are BEGIN IMMEDIATE ('write').
    append: (inputs: readonly RecordInput[]): Promise<AppendResult> =>
      serialize(() =>
        retryWhileBusy(async () => {
          if (local !== null) return local.append(inputs)
          return appendOnClient(client, inputs)
        }, busy),
      ),

    ...shared.reads<RecordRow>(builders(db)),

    prune: (chain, before, { now = new Date(), beforeDelete } = {}) =>
      write(async (tx) => {
        const next = await shared.nextAnchor(builders(tx), chain, before, now)
        if (next === null) return null
        // Kept outside first (we hold the write lock): if this throws, the transaction rolls back.
        await beforeDelete?.(next)
        // The retention path: the mode row exists only inside this transaction, so no other writer sees it.
        await tx.insert(auditRetentionMode).values({ id: 1 })
        // With the first anchor comes the trigger refusing a seq below it (migrations.ts); a no-op after that.
        await tx.run(sql.raw(CREATE_NO_INSERT_BELOW_ANCHOR))
        await tx.run(
          sql`INSERT OR IGNORE INTO audit_pruned_events (event_id, chain, pruned_at)
              SELECT event_id, chain, ${next.prunedAt} FROM audit_records WHERE chain = ${chain} AND seq <= ${next.seq}`,
        )
        await shared.saveAnchor(builders(tx), next)
        await tx
          .delete(auditRecords)
          .where(and(eq(auditRecords.chain, chain), lte(auditRecords.seq, next.seq)))
        await tx.delete(auditRetentionMode)
        return next
      }),

    async close() {
      if (closed) return
      closed = true
      local?.close()
      client.close()
    },
  }
}
