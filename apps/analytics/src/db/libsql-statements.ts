/**
 * The ingest transaction's statements. Each binds a whole list as one JSON array read back with
 * `json_each`, so the text never depends on the batch: libSQL prepares one short statement per step
 * (instead of a multi-row `VALUES` with hundreds of placeholders), and no query builder runs per batch.
 * Table and column names come from the drizzle schema, which stays the one definition of the tables.
 */
import type { InValue } from '@libsql/client'
import { getTableName } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { counts, dirtyBuckets, durationSketches, processedEvents } from './schema.ts'
import type { IngestTx } from './types.ts'

const table = (t: SQLiteTable) => `"${getTableName(t)}"`
const cols = (...columns: SQLiteColumn[]) => columns.map((c) => `"${c.name}"`).join(', ')

const P = processedEvents
const C = counts
const D = dirtyBuckets
const S = durationSketches

/**
 * Records envelope ids: `[processedAt, JSON array of ids]`. An id recorded before is skipped (only a
 * uniqueness conflict: any other failure still aborts). `WHERE true` keeps `ON CONFLICT` from parsing as a join.
 */
const RECORD_IDS = `INSERT INTO ${table(P)} (${cols(P.id, P.processedAt)})
  SELECT value, ?1 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING`

/** The same, returning the ids it recorded (the ones not counted before). */
const RECORD_IDS_RETURNING = `${RECORD_IDS} RETURNING ${cols(P.id)}`

/** Adds to minute counters: `[JSON array of [bucket, tenantId, type, source, count]]`, one row per cell. */
const ADD_MINUTE_COUNTS = `INSERT INTO ${table(C)} (${cols(C.grain, C.bucket, C.tenantId, C.type, C.source, C.count)})
  SELECT 'minute', value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?1) WHERE true
  ON CONFLICT (${cols(C.grain, C.bucket, C.tenantId, C.type, C.source)})
  DO UPDATE SET ${cols(C.count)} = ${cols(C.count)} + excluded.${cols(C.count)}`

/** Marks rollup buckets dirty: `[JSON array of [grain, bucket]]`. */
const MARK_DIRTY = `INSERT INTO ${table(D)} (${cols(D.grain, D.bucket)})
  SELECT value->>0, value->>1 FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING`

/**
 * Stored duration sketches of some series: `[JSON array of [bucket, tenantId, type]]`, answered by index into
 * that array (a tenant read back as text could differ: libSQL cuts returned text at a NUL character).
 */
const READ_SKETCHES = `SELECT j.key, s.${cols(S.sketch)} FROM json_each(?1) AS j JOIN ${table(S)} AS s
  ON s.${cols(S.bucket)} = j.value->>0 AND s.${cols(S.tenantId)} = j.value->>1 AND s.${cols(S.type)} = j.value->>2`

/** Writes one series' merged sketch: `[bucket, tenantId, type, sketch bytes]`. */
const WRITE_SKETCH = `INSERT INTO ${table(S)} (${cols(S.bucket, S.tenantId, S.type, S.sketch)}) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (${cols(S.bucket, S.tenantId, S.type)}) DO UPDATE SET ${cols(S.sketch)} = excluded.${cols(S.sketch)}`

/** What the counting steps need of a connection inside its write transaction. */
export interface IngestSql {
  /** Runs a statement; resolves to the rows it changed. */
  run(sql: string, args?: readonly InValue[]): number | Promise<number>
  /** Runs a statement; resolves to its rows, each indexed in column order. */
  rows(
    sql: string,
    args: readonly InValue[],
  ): readonly ArrayLike<unknown>[] | Promise<readonly ArrayLike<unknown>[]>
  /** Runs one statement per argument list (one round trip where the connection can). */
  runEach(sql: string, argLists: readonly (readonly InValue[])[]): unknown
}

/** The counting steps on one connection's write transaction: the same statements for the client and the driver. */
export const ingestTxOn = (sql: IngestSql): IngestTx => ({
  // The common case — every id new — needs no rows back; only a batch with some ids already recorded is
  // recorded again, from a savepoint, returning which ids are new.
  async recordIds(ids, at) {
    const args = [at, JSON.stringify(ids)]
    await sql.run('SAVEPOINT record_ids')
    const recorded = await sql.run(RECORD_IDS, args)
    let fresh: readonly string[]
    if (recorded === ids.length) fresh = ids
    else if (recorded === 0) fresh = []
    else {
      await sql.run('ROLLBACK TO record_ids')
      fresh = (await sql.rows(RECORD_IDS_RETURNING, args)).map((row) => String(row[0]))
    }
    await sql.run('RELEASE record_ids')
    return fresh
  },
  async addMinuteCounts(cells) {
    await sql.run(ADD_MINUTE_COUNTS, [JSON.stringify(cells)])
  },
  async markDirty(marks) {
    await sql.run(MARK_DIRTY, [JSON.stringify(marks)])
  },
  async readSketches(keys) {
    const rows = await sql.rows(READ_SKETCHES, [JSON.stringify(keys)])
    return new Map(rows.map((r) => [Number(r[0]), new Uint8Array(r[1] as ArrayBuffer)]))
  },
  async writeSketches(rows) {
    await sql.runEach(
      WRITE_SKETCH,
      rows.map((row) => [...row]),
    )
  },
})
