/**
 * What the libSQL and PostgreSQL stores run alike: every read, the analytics, and the part of pruning that
 * finds the new retention anchor and writes it. Drizzle builds these calls the same way for both dialects,
 * but types its builders per dialect; each store hands its database (or transaction) here as `Builders`,
 * the few calls both answer, and keeps what differs (appends, the retention mode, the delete) itself.
 */
import { and, asc, type Column, desc, eq, gte, type SQL, type Table } from 'drizzle-orm'
import type { AuditRecord, ChainHead, RetentionAnchor } from '../records/model.ts'
import {
  countSql,
  countsQuery,
  type GroupedQuery,
  type RecordColumns,
  recordReads,
  statsQuery,
  toCountRow,
  topActorsQuery,
  whereOf,
} from './sql-parts.ts'
import type { ActorCount, AuditStore, StatsRow } from './types.ts'

/** A SELECT being built in drizzle's `$dynamic()` mode, as both dialects answer it. */
export interface SelectQuery<Row> extends Promise<Row[]> {
  where(where: SQL | undefined): SelectQuery<Row>
  groupBy(...groups: (SQL | Column)[]): SelectQuery<Row>
  orderBy(...order: (SQL | Column)[]): SelectQuery<Row>
  limit(limit: number): SelectQuery<Row>
  toSQL(): { sql: string; params: unknown[] }
}

/** A database or transaction of either dialect: the builder calls the shared queries make. */
export interface Builders {
  select(fields?: Record<string, SQL | Column>): {
    from(table: Table): { $dynamic(): SelectQuery<Record<string, unknown>> }
  }
  insert(table: Table): {
    values(row: RetentionAnchor): {
      onConflictDoUpdate(config: { target: Column; set: Partial<RetentionAnchor> }): PromiseLike<unknown>
    }
  }
}

/** The tables the shared queries read (both schemas declare them with the same columns). */
export interface RelationalTables {
  readonly records: Table & RecordColumns & { readonly hash: Column; readonly receivedAt: Column }
  readonly anchors: Table & { readonly chain: Column }
  readonly chains: Table & { readonly chain: Column }
}

const selectFrom = <Row>(q: Builders, table: Table, fields?: Record<string, SQL | Column>) =>
  q.select(fields).from(table).$dynamic() as unknown as SelectQuery<Row>

/** The shared queries over one schema's tables. */
export const relationalQueries = (t: RelationalTables) => {
  const { records } = t

  const anchorIn = async (q: Builders, chain: string): Promise<RetentionAnchor | null> => {
    const [row] = await selectFrom<RetentionAnchor>(q, t.anchors).where(eq(t.anchors.chain, chain)).limit(1)
    return row ?? null
  }

  const headIn = async (q: Builders, chain: string): Promise<ChainHead | null> => {
    const fields = { seq: records.seq, hash: records.hash, type: records.type, source: records.source }
    const [row] = await selectFrom<Omit<ChainHead, 'chain'>>(q, records, fields)
      .where(eq(records.chain, chain))
      .orderBy(desc(records.seq))
      .limit(1)
    if (row) return { chain, ...row }
    const anchor = await anchorIn(q, chain)
    return anchor ? { chain, seq: anchor.seq, hash: anchor.hash } : null
  }

  /** A grouped analytics query as a SELECT (the plan test explains this very query). */
  const groupedSelect = (q: Builders, g: GroupedQuery) => {
    const query = selectFrom<Record<string, unknown>>(q, records, g.fields)
      .where(g.where)
      .groupBy(...g.groups)
      .orderBy(...g.order)
    return g.limit === undefined ? query : query.limit(g.limit)
  }

  /**
   * Inside a pruning transaction that holds the chain: the anchor pruning to `before` would leave (the last
   * record received before it), or null when nothing new is old enough.
   */
  const nextAnchor = async (
    q: Builders,
    chain: string,
    before: Date,
    now: Date,
  ): Promise<RetentionAnchor | null> => {
    const [firstKept] = await selectFrom<{ seq: number }>(q, records, { seq: records.seq })
      .where(and(eq(records.chain, chain), gte(records.receivedAt, before.toISOString())))
      .orderBy(asc(records.seq))
      .limit(1)
    const head = await headIn(q, chain)
    const anchor = await anchorIn(q, chain)
    const lastPruned = firstKept ? firstKept.seq - 1 : (head?.seq ?? 0)
    if (lastPruned <= (anchor?.seq ?? 0)) return null
    const [last] = await selectFrom<{ hash: string }>(q, records, { hash: records.hash })
      .where(and(eq(records.chain, chain), eq(records.seq, lastPruned)))
      .limit(1)
    if (!last) throw new Error(`chain ${chain} has no record at seq ${lastPruned}: cannot anchor`)
    return { chain, seq: lastPruned, hash: last.hash, prunedAt: now.toISOString() }
  }

  /** Writes (or moves) a chain's retention anchor. */
  const saveAnchor = (q: Builders, next: RetentionAnchor) =>
    q
      .insert(t.anchors)
      .values(next)
      .onConflictDoUpdate({
        target: t.anchors.chain,
        set: { seq: next.seq, hash: next.hash, prunedAt: next.prunedAt },
      })

  /** Every read and the analytics of an AuditStore, on `db`. */
  const reads = <Row extends AuditRecord & { readonly occurredMs: number }>(
    db: Builders,
  ): Pick<
    AuditStore,
    | 'list'
    | 'chainRecords'
    | 'recordAt'
    | 'head'
    | 'anchor'
    | 'chains'
    | 'stats'
    | 'counts'
    | 'topActors'
    | 'count'
  > => ({
    ...recordReads<Row>(records, (where, order, limit) =>
      selectFrom<Row>(db, records)
        .where(where)
        .orderBy(...order)
        .limit(limit),
    ),
    head: (chain) => headIn(db, chain),
    anchor: (chain) => anchorIn(db, chain),
    async chains() {
      const rows = await selectFrom<{ chain: string }>(db, t.chains).orderBy(asc(t.chains.chain))
      return rows.map((r) => r.chain)
    },
    stats: async (filter, groupBy) =>
      (await groupedSelect(db, statsQuery(records, filter, groupBy))) as unknown as StatsRow[],
    async counts(query) {
      const rows = await groupedSelect(db, countsQuery(records, query))
      return rows.map((row) => toCountRow(row, query))
    },
    topActors: async (filter, limit) =>
      (await groupedSelect(db, topActorsQuery(records, filter, limit))) as unknown as ActorCount[],
    async count(filter) {
      const [row] = await selectFrom<{ n: number }>(db, records, { n: countSql }).where(
        and(...whereOf(records, filter)),
      )
      return row?.n ?? 0
    },
  })

  return { groupedSelect, nextAnchor, saveAnchor, reads }
}
