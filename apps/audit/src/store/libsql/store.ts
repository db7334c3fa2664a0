/** libSQL audit store via drizzle: a local file by default, a libSQL server URL works too. */
import { migrate, mutexFor, retryWhileBusy } from '@flotilla/service-kit'
import { type Client, createClient } from '@libsql/client'
import { and, asc, desc, eq, gte, type SQL, sql } from 'drizzle-orm'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import type { ChainHead, RecordInput, RetentionAnchor } from '../../records/model.ts'
import {
  countSql,
  countsQuery,
  type GroupedQuery,
  recordReads,
  statsQuery,
  toCountRow,
  topActorsQuery,
  whereOf,
} from '../sql-parts.ts'
import type { ActorCount, AppendResult, AuditStore, RecordFilter, StatsRow } from '../types.ts'
import { appendOnClient, type RecordRow } from './append.ts'
import { type LocalAppender, localPathOf, openLocalAppender } from './local-append.ts'
import { AUDIT_MIGRATIONS } from './migrations.ts'
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

const where = (filter: RecordFilter): SQL[] => whereOf(auditRecords, filter)

/** A grouped analytics query as this store runs it (exported so the plan test explains this very query). */
export const groupedSelect = (db: Db, q: GroupedQuery) => {
  const query = db
    .select(q.fields)
    .from(auditRecords)
    .where(q.where)
    .groupBy(...q.groups)
    .orderBy(...q.order)
    .$dynamic()
  return q.limit === undefined ? query : query.limit(q.limit)
}

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

  const anchorIn = async (q: Db | Tx, chain: string): Promise<RetentionAnchor | null> => {
    const [row] = await q.select().from(auditAnchors).where(eq(auditAnchors.chain, chain)).limit(1)
    return row ?? null
  }

  const headIn = async (q: Db | Tx, chain: string): Promise<ChainHead | null> => {
    const [row] = await q
      .select({
        seq: auditRecords.seq,
        hash: auditRecords.hash,
        type: auditRecords.type,
        source: auditRecords.source,
      })
      .from(auditRecords)
      .where(eq(auditRecords.chain, chain))
      .orderBy(desc(auditRecords.seq))
      .limit(1)
    if (row) return { chain, ...row }
    const anchor = await anchorIn(q, chain)
    return anchor ? { chain, seq: anchor.seq, hash: anchor.hash } : null
  }

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

    ...recordReads<RecordRow>(auditRecords, (where, order, limit) =>
      db
        .select()
        .from(auditRecords)
        .where(where)
        .orderBy(...order)
        .limit(limit),
    ),

    head: (chain) => headIn(db, chain),
    anchor: (chain) => anchorIn(db, chain),

    async chains() {
      const rows = await db.select().from(auditChains).orderBy(asc(auditChains.chain))
      return rows.map((r) => r.chain)
    },

    prune: (chain, before, { now = new Date(), beforeDelete } = {}) =>
      write(async (tx) => {
        const [firstKept] = await tx
          .select({ seq: auditRecords.seq })
          .from(auditRecords)
          .where(and(eq(auditRecords.chain, chain), gte(auditRecords.receivedAt, before.toISOString())))
          .orderBy(asc(auditRecords.seq))
          .limit(1)
        const head = await headIn(tx, chain)
        const anchor = await anchorIn(tx, chain)
        const lastPruned = firstKept ? firstKept.seq - 1 : (head?.seq ?? 0)
        if (lastPruned <= (anchor?.seq ?? 0)) return null
        const last = await tx
          .select({ hash: auditRecords.hash })
          .from(auditRecords)
          .where(and(eq(auditRecords.chain, chain), eq(auditRecords.seq, lastPruned)))
          .limit(1)
        const hash = last[0]?.hash
        if (!hash) throw new Error(`chain ${chain} has no record at seq ${lastPruned}: cannot anchor`)
        const next: RetentionAnchor = { chain, seq: lastPruned, hash, prunedAt: now.toISOString() }
        // Kept outside first (we hold the write lock): if this throws, the transaction rolls back.
        await beforeDelete?.(next)
        // The retention path: the mode row exists only inside this transaction, so no other writer sees it.
        await tx.insert(auditRetentionMode).values({ id: 1 })
        await tx.run(
          sql`INSERT OR IGNORE INTO audit_pruned_events (event_id, chain, pruned_at)
              SELECT event_id, chain, ${next.prunedAt} FROM audit_records WHERE chain = ${chain} AND seq <= ${lastPruned}`,
        )
        await tx
          .insert(auditAnchors)
          .values(next)
          .onConflictDoUpdate({
            target: auditAnchors.chain,
            set: { seq: next.seq, hash: next.hash, prunedAt: next.prunedAt },
          })
        await tx
          .delete(auditRecords)
          .where(and(eq(auditRecords.chain, chain), sql`${auditRecords.seq} <= ${lastPruned}`))
        await tx.delete(auditRetentionMode)
        return next
      }),

    stats: async (filter, groupBy) =>
      (await groupedSelect(db, statsQuery(auditRecords, filter, groupBy))) as unknown as StatsRow[],

    async counts(query) {
      const rows = await groupedSelect(db, countsQuery(auditRecords, query))
      return rows.map((row) => toCountRow(row, query))
    },

    topActors: async (filter, limit) =>
      (await groupedSelect(db, topActorsQuery(auditRecords, filter, limit))) as unknown as ActorCount[],

    async count(filter) {
      const [row] = await db
        .select({ n: countSql })
        .from(auditRecords)
        .where(and(...where(filter)))
      return row?.n ?? 0
    },

    async close() {
      if (closed) return
      closed = true
      local?.close()
      client.close()
    },
  }
}
