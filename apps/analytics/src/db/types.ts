/**
 * What the analytics code asks of its database, whichever engine holds it: drizzle `sql` queries (written once,
 * in SQL both SQLite and PostgreSQL run), transactions, and the ingest transaction's few hot statements, which
 * each engine writes in its fastest form (libsql-ingest.ts, postgres.ts).
 */
import type { SQL } from 'drizzle-orm'

export interface Queries {
  /** Rows as objects keyed by column name; integers as numbers, blobs as bytes. */
  all<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  run(query: SQL): Promise<{ readonly rowsAffected: number }>
}

/** A minute counter to add: [bucket, tenantId, type, source, count]. */
export type MinuteCell = [bucket: number, tenantId: string, type: string, source: string, count: number]
/** A duration sketch's series: [hour bucket, tenantId, type]. */
export type SketchKey = readonly [bucket: number, tenantId: string, type: string]

/** The statements of the counting transaction (ingest/service.ts decides what they write). */
export interface IngestTx {
  /** Records envelope ids not recorded before; returns those (the rest were counted already). */
  recordIds(ids: readonly string[], at: number): Promise<readonly string[]>
  addMinuteCounts(cells: readonly MinuteCell[]): Promise<void>
  markDirty(marks: readonly (readonly [grain: 'hour' | 'day', bucket: number])[]): Promise<void>
  /** The stored sketches of some series, by index in `keys`. */
  readSketches(keys: readonly SketchKey[]): Promise<Map<number, Uint8Array>>
  writeSketches(rows: readonly (readonly [...SketchKey, Uint8Array])[]): Promise<void>
}

export interface Db extends Queries {
  readonly dialect: 'sqlite' | 'postgresql'
  /** A transaction that ingest does not run beside (rollups and compaction recompute what ingest adds to). */
  transaction<T>(fn: (tx: Queries) => Promise<T>): Promise<T>
  /** The counting transaction: all of `fn` commits or none (retried whole when it lost a race). */
  ingest<T>(fn: (tx: IngestTx) => Promise<T>): Promise<T>
}

export interface Database {
  readonly db: Db
  /** Runs statements written by hand for this engine (tests, the copy command). */
  exec(statement: string): Promise<void>
  /** The readiness check: a round trip, or why the database cannot be reached. */
  check(): Promise<unknown>
  /** Safe to call twice. */
  close(): Promise<void>
}
