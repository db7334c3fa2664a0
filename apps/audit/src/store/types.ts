/** The one interface every audit store implements (libSQL by default, PostgreSQL or MongoDB at scale). */
import type { AuditRecord, ChainHead, RecordInput, RetentionAnchor } from '../records/model.ts'

/** Search filters shared by listing, export and stats. Every field narrows the result. */
export interface RecordFilter {
  readonly tenantId?: string
  readonly actorId?: string
  readonly actorType?: string
  /** Exact type. */
  readonly type?: string
  /** Types starting with this prefix (`user.` for `user.*`). */
  readonly typePrefix?: string
  readonly subjectId?: string
  readonly correlationId?: string
  /** occurredAt >= from */
  readonly from?: Date
  /** occurredAt < to */
  readonly to?: Date
}

/** Keyset position in the newest-first order (occurredAt, then event id, both descending). */
export interface PageKey {
  readonly occurredMs: number
  readonly eventId: string
}

export interface ListPage {
  readonly records: AuditRecord[]
  /** Where the next page starts; null on the last page. */
  readonly next: PageKey | null
}

/**
 * One page of the newest-first order from rows fetched with `limit + 1` (the extra row only tells that a next
 * page exists), each row mapped to its record; every store pages this way.
 */
export const toListPage = <Row extends PageKey>(
  rows: readonly Row[],
  limit: number,
  toRecord: (row: Row) => AuditRecord,
): ListPage => {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    records: page.map(toRecord),
    next: rows.length > limit && last ? { occurredMs: last.occurredMs, eventId: last.eventId } : null,
  }
}

export type StatsGroupBy = 'type' | 'actor' | 'source'

export interface StatsRow {
  readonly key: string
  readonly count: number
}

/** What the analytics counts group by: `actor` is `actorType:actorId`, `tenant` the tenant id (`(none)` without one). */
export type CountDimension = 'type' | 'actor' | 'source' | 'tenant'
export const COUNT_DIMENSIONS = [
  'type',
  'actor',
  'source',
  'tenant',
] as const satisfies readonly CountDimension[]

/** Time buckets of the analytics counts, in UTC, on occurredAt. */
export type CountInterval = 'hour' | 'day'
export const INTERVAL_MS: Readonly<Record<CountInterval, number>> = { hour: 3_600_000, day: 86_400_000 }

export interface CountsQuery {
  readonly filter: RecordFilter
  /** Distinct dimensions, in the order the caller gave them; none counts everything matching the filter. */
  readonly groupBy: readonly CountDimension[]
  /** Adds a time bucket to the grouping. */
  readonly interval?: CountInterval
  readonly limit: number
}

export interface CountRow {
  /** Start of the bucket (epoch ms, UTC) when an interval was asked for. */
  readonly bucketMs?: number
  /** One value per dimension of `groupBy`. */
  readonly keys: Partial<Record<CountDimension, string>>
  readonly count: number
}

export interface ActorCount {
  readonly actorType: string
  readonly actorId: string
  readonly count: number
}

export interface AppendResult {
  /** Records written by this call, in input order. */
  readonly appended: AuditRecord[]
  /** Event ids already recorded (or repeated within the batch): skipped. */
  readonly duplicates: string[]
}

export interface PruneOptions {
  /** @defaultValue new Date() */
  readonly now?: Date
  readonly beforeDelete?: (anchor: RetentionAnchor) => Promise<void>
}

/** Append-only, hash-chained storage of audit records. */
export interface AuditStore {
  readonly kind: 'libsql' | 'postgres' | 'mongodb'
  /**
   * Appends one batch atomically with respect to other writers: each new event gets the next seq of
   * its chain; events already recorded are skipped, so redelivery never duplicates nor forks a chain.
   */
  append(inputs: readonly RecordInput[]): Promise<AppendResult>
  /** Newest first (occurredAt desc, event id desc), starting after `after`. */
  list(filter: RecordFilter, options: { readonly after?: PageKey; readonly limit: number }): Promise<ListPage>
  /** Records of one chain in seq order, seq > afterSeq. */
  chainRecords(chain: string, afterSeq: number, limit: number): Promise<AuditRecord[]>
  recordAt(chain: string, seq: number): Promise<AuditRecord | null>
  /** The last record of a chain, else its retention anchor, else null (a chain never written). */
  head(chain: string): Promise<ChainHead | null>
  /** Every chain that has records or an anchor. */
  chains(): Promise<string[]>
  anchor(chain: string): Promise<RetentionAnchor | null>
  /**
   * The retention path: deletes the oldest records of a chain received before `before` (always a prefix
   * of the chain) and anchors the seq and hash of the last one deleted. Returns the new anchor, or null
   * when nothing was old enough. `options.beforeDelete` runs once the anchor is known and before anything
   * is deleted (to keep the anchor outside the store first); if it throws, nothing is pruned.
   */
  prune(chain: string, before: Date, options?: PruneOptions): Promise<RetentionAnchor | null>
  stats(filter: RecordFilter, groupBy: StatsGroupBy): Promise<StatsRow[]>
  /**
   * Analytics: record counts grouped by the query's dimensions (and time bucket), computed by the database.
   * Ordered by bucket, then count (highest first), then the keys; at most `limit` rows. Without dimensions
   * or interval: exactly one row, the total (0 when nothing matches); otherwise no row for an empty group.
   */
  counts(query: CountsQuery): Promise<CountRow[]>
  /** The `limit` actors with the most records matching the filter (events without an actor left out). */
  topActors(filter: RecordFilter, limit: number): Promise<ActorCount[]>
  /** Total number of records matching a filter. */
  count(filter: RecordFilter): Promise<number>
  /** The readiness check of a store that boots in the background (PostgreSQL): names the database it reached. */
  check?(): Promise<string>
  close(): Promise<void>
}

/** `user.` → `user/`: the smallest string greater than every string with that prefix (for range scans). */
export const prefixUpperBound = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)

/** Stats key of the actor group: `type:id`, or `(none)` for events without an actor. */
export const NO_ACTOR = '(none)'
/** Counts key of the tenant group for events without a tenant. */
export const NO_TENANT = '(none)'
