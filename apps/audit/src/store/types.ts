/** The one interface both audit stores implement (libSQL by default, MongoDB at scale). */
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

export type StatsGroupBy = 'type' | 'actor' | 'source'

export interface StatsRow {
  readonly key: string
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
  readonly kind: 'libsql' | 'mongodb'
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
  /** Total number of records matching a filter. */
  count(filter: RecordFilter): Promise<number>
  close(): Promise<void>
}

/** `user.` → `user/`: the smallest string greater than every string with that prefix (for range scans). */
export const prefixUpperBound = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)

/** Stats key of the actor group: `type:id`, or `(none)` for events without an actor. */
export const NO_ACTOR = '(none)'
