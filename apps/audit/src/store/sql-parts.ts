/**
 * The SQL the libSQL and PostgreSQL stores share, as drizzle parts over either dialect's columns: filters,
 * the keyset condition, and the analytics. Both run the same text (integer arithmetic for buckets, `||` and
 * coalesce for keys), so their answers agree row for row. Analytics constants are written into the text,
 * never bound: PostgreSQL matches a GROUP BY expression to the select list by its text, and two parameters
 * are never the same expression.
 */
import { and, asc, type Column, desc, eq, gt, gte, isNotNull, lt, or, type SQL, sql } from 'drizzle-orm'
import type { AuditRecord } from '../records/model.ts'
import {
  type CountDimension,
  type CountInterval,
  type CountRow,
  type CountsQuery,
  INTERVAL_MS,
  NO_ACTOR,
  NO_TENANT,
  type PageKey,
  prefixUpperBound,
  type RecordFilter,
  toListPage,
} from './types.ts'

/** The record columns the shared SQL reads (both stores' drizzle tables have them). */
export interface AnalyticsColumns {
  readonly eventId: Column
  readonly type: Column
  readonly source: Column
  readonly tenantId: Column
  readonly actorType: Column
  readonly actorId: Column
  readonly subjectId: Column
  readonly correlationId: Column
  readonly occurredMs: Column
}

/** The columns the shared record reads use besides the analytics ones. */
export interface RecordColumns extends AnalyticsColumns {
  readonly chain: Column
  readonly seq: Column
}

/** `SELECT * FROM audit_records WHERE … ORDER BY … LIMIT …` on one store's database. */
export type SelectRecords<Row> = (
  where: SQL | undefined,
  order: readonly SQL[],
  limit: number,
) => Promise<Row[]>

/** A stored row as a record: the sort key `occurredMs` stays in the store. */
const rowToRecord = <Row extends AuditRecord & { readonly occurredMs: number }>({
  occurredMs: _ms,
  ...record
}: Row): AuditRecord => record

/**
 * The reads both relational stores answer with the same SQL: a filtered page (newest first, keyset), a chain's
 * records after a sequence number, one record. Each store gives the one query that differs by dialect.
 */
export const recordReads = <Row extends AuditRecord & { readonly occurredMs: number }>(
  c: RecordColumns,
  select: SelectRecords<Row>,
) => ({
  async list(filter: RecordFilter, { after, limit }: { after?: PageKey | undefined; limit: number }) {
    const conditions = whereOf(c, filter)
    if (after) conditions.push(afterKey(c, after))
    const rows = await select(and(...conditions), [desc(c.occurredMs), desc(c.eventId)], limit + 1)
    return toListPage(rows, limit, rowToRecord)
  },
  async chainRecords(chain: string, afterSeq: number, limit: number) {
    const rows = await select(and(eq(c.chain, chain), gt(c.seq, afterSeq)), [asc(c.seq)], limit)
    return rows.map(rowToRecord)
  },
  async recordAt(chain: string, seq: number) {
    const [row] = await select(and(eq(c.chain, chain), eq(c.seq, seq)), [asc(c.seq)], 1)
    return row ? rowToRecord(row) : null
  },
})

/** Filter → WHERE conditions. */
export const whereOf = (c: AnalyticsColumns, filter: RecordFilter): SQL[] => {
  const w: SQL[] = []
  if (filter.tenantId !== undefined) w.push(eq(c.tenantId, filter.tenantId))
  if (filter.actorId !== undefined) w.push(eq(c.actorId, filter.actorId))
  if (filter.actorType !== undefined) w.push(eq(c.actorType, filter.actorType))
  if (filter.type !== undefined) w.push(eq(c.type, filter.type))
  if (filter.typePrefix !== undefined) {
    w.push(gte(c.type, filter.typePrefix), lt(c.type, prefixUpperBound(filter.typePrefix)))
  }
  if (filter.subjectId !== undefined) w.push(eq(c.subjectId, filter.subjectId))
  if (filter.correlationId !== undefined) w.push(eq(c.correlationId, filter.correlationId))
  if (filter.from !== undefined) w.push(gte(c.occurredMs, filter.from.getTime()))
  if (filter.to !== undefined) w.push(lt(c.occurredMs, filter.to.getTime()))
  return w
}

/** The keyset condition of the newest-first order: strictly after `key`. */
const afterKey = (c: AnalyticsColumns, key: PageKey): SQL =>
  or(
    lt(c.occurredMs, key.occurredMs),
    and(eq(c.occurredMs, key.occurredMs), lt(c.eventId, key.eventId)),
  ) as SQL

const literal = (text: string) => sql.raw(`'${text.replaceAll("'", "''")}'`)

/** A dimension's key expression. */
const dimensionSql = (c: AnalyticsColumns, dimension: CountDimension): SQL<string> => {
  if (dimension === 'type') return sql<string>`${c.type}`
  if (dimension === 'source') return sql<string>`${c.source}`
  if (dimension === 'tenant') return sql<string>`coalesce(${c.tenantId}, ${literal(NO_TENANT)})`
  return sql<string>`coalesce(${c.actorType} || ':' || ${c.actorId}, ${literal(NO_ACTOR)})`
}

/** Start of the UTC bucket holding occurred_ms (a floor that is right before 1970 too). */
const bucketSql = (c: AnalyticsColumns, interval: CountInterval): SQL<number> => {
  const ms = sql.raw(String(INTERVAL_MS[interval]))
  return sql<number>`(${c.occurredMs} - ((${c.occurredMs} % ${ms}) + ${ms}) % ${ms})`
}

export const countSql = sql<number>`count(*)`.mapWith(Number)

/** Select list, GROUP BY and ORDER BY of a counts query (the WHERE is the store's filter). */
const countsParts = (c: AnalyticsColumns, query: CountsQuery) => {
  const keys = query.groupBy.map((d) => [d, dimensionSql(c, d)] as const)
  const bucket = query.interval ? bucketSql(c, query.interval) : null
  const fields: Record<string, SQL> = { count: countSql }
  if (bucket) fields.bucket = bucket.mapWith(Number)
  for (const [d, expression] of keys) fields[d] = expression
  const groups = [...(bucket ? [bucket] : []), ...keys.map(([, e]) => e)]
  const order = [
    ...(bucket ? [sql`${bucket} ASC`] : []),
    sql`count(*) DESC`,
    ...keys.map(([, e]) => sql`${e} ASC`),
  ]
  return { fields, groups, order }
}

/** A grouped analytics query as parts: each store runs it with its own SELECT (`groupedSelect`). */
export interface GroupedQuery {
  readonly fields: Record<string, SQL>
  readonly where: SQL | undefined
  readonly groups: readonly SQL[]
  readonly order: readonly SQL[]
  readonly limit?: number
}

/** Counts by one dimension (`GET /v1/audit/stats`). */
export const statsQuery = (
  c: AnalyticsColumns,
  filter: RecordFilter,
  groupBy: CountDimension,
): GroupedQuery => {
  const key = dimensionSql(c, groupBy)
  return {
    fields: { key, count: countSql },
    where: and(...whereOf(c, filter)),
    groups: [key],
    order: [sql`count(*) DESC`, sql`${key} ASC`],
  }
}

/** Counts by any dimensions, per bucket or not. */
export const countsQuery = (c: AnalyticsColumns, query: CountsQuery): GroupedQuery => ({
  ...countsParts(c, query),
  where: and(...whereOf(c, query.filter)),
  limit: query.limit,
})

/** The actors with the most records. */
export const topActorsQuery = (c: AnalyticsColumns, filter: RecordFilter, limit: number): GroupedQuery => ({
  fields: { actorType: sql<string>`${c.actorType}`, actorId: sql<string>`${c.actorId}`, count: countSql },
  where: and(...whereOf(c, filter), isNotNull(c.actorId), isNotNull(c.actorType)),
  groups: [sql`${c.actorType}`, sql`${c.actorId}`],
  order: [sql`count(*) DESC`, asc(c.actorType), asc(c.actorId)],
  limit,
})

/** A row of a counts query → CountRow. */
export const toCountRow = (row: Record<string, unknown>, query: CountsQuery): CountRow => {
  const keys: Partial<Record<CountDimension, string>> = {}
  for (const d of query.groupBy) keys[d] = String(row[d])
  return {
    ...(query.interval ? { bucketMs: Number(row.bucket) } : {}),
    keys,
    count: Number(row.count),
  }
}
