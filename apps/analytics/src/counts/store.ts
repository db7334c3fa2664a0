/**
 * Reading counters at a grain. A rolled-up bucket that is dirty (finer rows changed since its rollup) is
 * read from the finer grain instead, so answers are exact before, during and after rollups.
 */
import { type SQL, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import type { Grain } from '../db/schema.ts'
import { GRAIN_MS } from '../time/cover.ts'
import { type CountFilter, filterSql } from './filter.ts'

/** Dimensions a read groups by (the bucket is always floored to the requested grain). */
export type CountDimension = 'bucket' | 'type' | 'source' | 'tenantId'

export interface CountRow {
  bucket: number
  type: string
  source: string
  tenantId: string
  count: number
}

export interface ReadCountsOptions {
  readonly grain: Grain
  readonly start: number
  readonly end: number
  readonly filter: CountFilter
  readonly groupBy: readonly CountDimension[]
}

const FINER: Readonly<Record<Grain, Grain | undefined>> = { minute: undefined, hour: 'minute', day: 'hour' }
const COLUMN: Readonly<Record<CountDimension, string>> = {
  bucket: 'bucket',
  type: 'type',
  source: 'source',
  tenantId: 'tenant_id',
}

const keyOf = (r: CountRow, dims: readonly CountDimension[]) => dims.map((d) => r[d]).join('\u0000')

const dirtyRuns = async (db: Db, grain: Grain, start: number, end: number): Promise<[number, number][]> => {
  const rows = await db.all<{ bucket: number }>(
    sql`SELECT bucket FROM dirty_buckets WHERE grain = ${grain} AND bucket >= ${start} AND bucket < ${end} ORDER BY bucket`,
  )
  const step = GRAIN_MS[grain]
  const runs: [number, number][] = []
  for (const { bucket } of rows) {
    const last = runs.at(-1)
    if (last && last[1] === bucket) last[1] = bucket + step
    else runs.push([bucket, bucket + step])
  }
  return runs
}

/** Sums counters over `[start, end)` at one grain, grouped by the requested dimensions. */
export const readCounts = async (db: Db, o: ReadCountsOptions): Promise<CountRow[]> => {
  const dims = o.groupBy
  const select = dims.map((d) => sql.raw(`${COLUMN[d]} AS "${d}"`))
  const conditions: SQL[] = [
    sql`grain = ${o.grain}`,
    sql`bucket >= ${o.start}`,
    sql`bucket < ${o.end}`,
    ...filterSql(o.filter),
  ]
  const finer = FINER[o.grain]
  const runs = finer ? await dirtyRuns(db, o.grain, o.start, o.end) : []
  if (runs.length > 0) {
    conditions.push(
      sql`bucket NOT IN (SELECT bucket FROM dirty_buckets WHERE grain = ${o.grain} AND bucket >= ${o.start} AND bucket < ${o.end})`,
    )
  }
  const query = sql`SELECT ${sql.join([...select, sql`SUM(count) AS "count"`], sql`, `)} FROM counts WHERE ${sql.join(
    conditions,
    sql` AND `,
  )}${dims.length > 0 ? sql` GROUP BY ${sql.raw(dims.map((d) => COLUMN[d]).join(', '))}` : sql``}`
  const rows = (await db.all<Partial<CountRow>>(query)).map(
    (r): CountRow => ({
      bucket: Number(r.bucket ?? 0),
      type: r.type ?? '',
      source: r.source ?? '',
      tenantId: r.tenantId ?? '',
      count: Number(r.count ?? 0),
    }),
  )
  if (!finer || runs.length === 0) return rows.filter((r) => r.count > 0)
  const merged = new Map<string, CountRow>()
  for (const r of rows) merged.set(keyOf(r, dims), r)
  const step = GRAIN_MS[o.grain]
  for (const [start, end] of runs) {
    for (const r of await readCounts(db, { ...o, grain: finer, start, end })) {
      const row = { ...r, bucket: Math.floor(r.bucket / step) * step }
      const key = keyOf(row, dims)
      const prev = merged.get(key)
      if (prev) prev.count += row.count
      else merged.set(key, row)
    }
  }
  return [...merged.values()].filter((r) => r.count > 0)
}
