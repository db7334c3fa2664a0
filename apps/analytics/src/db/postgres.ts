/**
 * The analytics database on PostgreSQL (postgres.js, as audit's store): one database every analytics machine
 * shares. The tables are the libSQL migrations' own DDL, translated by the kit (`postgresDdlOf`); the queries
 * are the same drizzle `sql` the libSQL database runs, compiled for PostgreSQL.
 *
 * Several machines write at once, so what libSQL's single writer gave for free is explicit here:
 * - rollups and compaction recompute buckets from the counters ingest adds to: they take a transaction-scoped
 *   advisory lock exclusively, every ingest transaction takes it shared, so a rollup never runs beside a batch
 *   (batches still run beside each other);
 * - a duration sketch is read, merged and written back: each series is locked (advisory, ascending keys) first;
 * - every batch writes its ids and rows in sorted order, so two batches never wait on each other in a cycle,
 *   and a batch that still lost a race (deadlock, serialization failure) is retried whole.
 * PostgreSQL `text` cannot hold NUL: a NUL in a bound string is stored as U+FFFD, on writes and reads alike,
 * as libSQL stores a lone surrogate.
 */
import {
  type Logger,
  migratedUnless,
  openPostgres,
  postgresDdlOf,
  postgresText,
  whenUsable,
} from '@flotilla/service-kit'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Sql, TransactionSql } from 'postgres'
import { MIGRATIONS } from './migrations.ts'
import type { Database, Db, IngestTx, MinuteCell, Queries } from './types.ts'

const dialect = new PgDialect()
const PREPARED = { prepare: true } as const

const clean = postgresText

const queriesOn = (q: Sql | TransactionSql): Queries => {
  const unsafe = (query: Parameters<Queries['all']>[0]) => {
    const { sql: text, params } = dialect.sqlToQuery(query)
    return q.unsafe(text, params.map(clean) as never[], PREPARED)
  }
  return {
    all: async <T>(query: Parameters<Queries['all']>[0]) => [...(await unsafe(query))] as T[],
    run: async (query) => ({ rowsAffected: (await unsafe(query)).count }),
  }
}

const SCHEMA_KEY = "coalesce(current_schema(), '')"
/** Rollups (exclusive) against ingest (shared). */
const ROLLUP_LOCK = `hashtext('flotilla.analytics.rollup:' || ${SCHEMA_KEY})`
const SKETCH_LOCK_NAMESPACE = `hashtext('flotilla.analytics.sketch:' || ${SCHEMA_KEY})`

const RECORD_IDS = `INSERT INTO processed_events (id, processed_at)
  SELECT id, $1::bigint FROM unnest($2::text[]) AS u(id) ORDER BY id ON CONFLICT DO NOTHING RETURNING id`
const ADD_MINUTE_COUNTS = `INSERT INTO counts (grain, bucket, tenant_id, type, source, count)
  SELECT 'minute', b, t, ty, s, c FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
    AS u(b, t, ty, s, c) ORDER BY b, t, ty, s
  ON CONFLICT (grain, bucket, tenant_id, type, source) DO UPDATE SET count = counts.count + excluded.count`
const MARK_DIRTY = `INSERT INTO dirty_buckets (grain, bucket)
  SELECT g, b FROM unnest($1::text[], $2::bigint[]) AS u(g, b) ORDER BY g, b ON CONFLICT DO NOTHING`
const SERIES = 'unnest($1::bigint[], $2::text[], $3::text[])'
const LOCK_SKETCHES = `SELECT pg_advisory_xact_lock(${SKETCH_LOCK_NAMESPACE}, k) FROM (SELECT DISTINCT
  hashtext(b::text || '/' || t || '/' || ty) AS k FROM ${SERIES} AS u(b, t, ty) ORDER BY k) AS keys`
const READ_SKETCHES = `SELECT u.i - 1 AS i, s.sketch FROM ${SERIES} WITH ORDINALITY AS u(b, t, ty, i)
  JOIN duration_sketches s ON s.bucket = u.b AND s.tenant_id = u.t AND s.type = u.ty`
const WRITE_SKETCH = `INSERT INTO duration_sketches (bucket, tenant_id, type, sketch) VALUES ($1, $2, $3, $4)
  ON CONFLICT (bucket, tenant_id, type) DO UPDATE SET sketch = excluded.sketch`

/** Cells whose keys became equal once cleaned are added up (an upsert may not touch a row twice). */
const mergeCells = (cells: readonly MinuteCell[]): MinuteCell[] => {
  const merged = new Map<string, MinuteCell>()
  for (const [b, t, ty, s, c] of cells) {
    const cell: MinuteCell = [b, clean(t) as string, clean(ty) as string, clean(s) as string, c]
    const key = JSON.stringify(cell.slice(0, 4))
    const prev = merged.get(key)
    if (prev) prev[4] += c
    else merged.set(key, cell)
  }
  return [...merged.values()]
}

const column = (rows: readonly (readonly unknown[])[], i: number): unknown[] => rows.map((r) => clean(r[i]))

const ingestTx = (tx: TransactionSql): IngestTx => ({
  async recordIds(ids, at) {
    const original = new Map(ids.map((id) => [clean(id) as string, id]))
    const rows = await tx.unsafe<{ id: string }[]>(RECORD_IDS, [at, [...original.keys()]], PREPARED)
    return rows.map((r: { id: string }) => original.get(r.id) as string)
  },
  async addMinuteCounts(cells) {
    const rows = mergeCells(cells)
    if (rows.length === 0) return
    await tx.unsafe(ADD_MINUTE_COUNTS, [0, 1, 2, 3, 4].map((i) => column(rows, i)) as never[], PREPARED)
  },
  async markDirty(marks) {
    if (marks.length === 0) return
    await tx.unsafe(MARK_DIRTY, [column(marks, 0), column(marks, 1)] as never[], PREPARED)
  },
  async readSketches(keys) {
    const args = [column(keys, 0), column(keys, 1), column(keys, 2)] as never[]
    await tx.unsafe(LOCK_SKETCHES, args, PREPARED)
    const rows = await tx.unsafe<{ i: number; sketch: Uint8Array }[]>(READ_SKETCHES, args, PREPARED)
    return new Map(
      rows.map((r: { i: number; sketch: Uint8Array }) => [Number(r.i), new Uint8Array(r.sketch)]),
    )
  },
  async writeSketches(rows) {
    // Pipelined on the transaction's connection.
    await Promise.all(
      rows.map(([b, t, ty, bytes]) =>
        tx.unsafe(WRITE_SKETCH, [b, clean(t), clean(ty), bytes] as never[], PREPARED),
      ),
    )
  },
})

// deadlock_detected, serialization_failure: the batch lost a race; the next attempt sees the winner's commit.
const RETRYABLE = new Set(['40P01', '40001'])
const MAX_ATTEMPTS = 5

const retried = async <T>(fn: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      const code = (error as { code?: string }).code
      if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error
    }
  }
}

/** How the kit opens and migrates this store (the opener below and the copy command share it). */
export const ANALYTICS_POSTGRES = {
  store: 'analytics',
  migrations: postgresDdlOf(MIGRATIONS),
  table: 'analytics_schema_migrations',
  lockName: 'flotilla.analytics.migrate',
} as const

/** Opens the pool and migrates under the kit's advisory lock (waited for unless `wait: false`). */
export const openPostgresDatabase = async (options: {
  readonly url: string
  readonly wait?: boolean | undefined
  readonly logger?: Pick<Logger, 'warn' | 'info'> | undefined
}): Promise<Database> => {
  const connection = openPostgres({
    url: options.url,
    ...ANALYTICS_POSTGRES,
    ...(options.logger ? { logger: options.logger } : {}),
  })
  await migratedUnless(connection, options.wait)
  const { sql } = connection
  /** A transaction that first takes the rollup lock (`mode`), retried whole when it lost a race. */
  const locked = <T>(mode: 'exclusive' | 'shared', fn: (tx: TransactionSql) => Promise<T>): Promise<T> =>
    retried(
      async () =>
        (await sql.begin(async (tx) => {
          const lock = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'
          // Held before fn's first statement is sent. Sending both in one flight once came with a lost count in
          // the two-writers-plus-rollups test (db.test.ts); not proven the cause, so the round trip stays.
          await tx.unsafe(`SELECT ${lock}(${ROLLUP_LOCK})`, [], PREPARED)
          return fn(tx)
        })) as T,
    )
  const db: Db = {
    dialect: 'postgresql',
    ...queriesOn(sql),
    transaction: (fn) => locked('exclusive', (tx) => fn(queriesOn(tx))),
    ingest: (fn) => locked('shared', (tx) => fn(ingestTx(tx))),
  }
  return {
    db: whenUsable(connection, db),
    exec: async (statement) => {
      await connection.usable()
      await sql.unsafe(statement)
    },
    check: () => connection.check(),
    close: () => connection.close(),
  }
}
