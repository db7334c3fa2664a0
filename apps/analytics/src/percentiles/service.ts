/** Percentiles of `payload.durationMs`: merges the hourly DDSketches of the matching series per bucket. */
import { type SQL, sql } from 'drizzle-orm'
import { type CountFilter, filterSql } from '../counts/filter.ts'
import type { Db } from '../db/client.ts'
import { pointIndex } from '../time/buckets.ts'
import { HOUR_MS } from '../time/zone.ts'
import { decodeSketch, newSketch } from './sketch.ts'

export interface PercentileSummary {
  readonly count: number
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
}

type Sketch = ReturnType<typeof newSketch>

const summarise = (sketch: Sketch): PercentileSummary => {
  if (sketch.count === 0) return { count: 0, p50: null, p95: null, p99: null }
  const q = (p: number) => Math.round(sketch.getValueAtQuantile(p) * 100) / 100
  return { count: Math.round(sketch.count), p50: q(0.5), p95: q(0.95), p99: q(0.99) }
}

/**
 * p50 / p95 / p99 per point (`boundaries` as from `bucketBoundaries`), 1% relative accuracy. Sketches are
 * hourly, so a point is exact when its boundaries are whole hours.
 */
export const readPercentileSeries = async (
  db: Db,
  filter: Omit<CountFilter, 'source'>,
  boundaries: readonly number[],
): Promise<PercentileSummary[]> => {
  const start = Math.floor((boundaries[0] as number) / HOUR_MS) * HOUR_MS
  const end = Math.ceil((boundaries.at(-1) as number) / HOUR_MS) * HOUR_MS
  const conditions: SQL[] = [sql`bucket >= ${start}`, sql`bucket < ${end}`, ...filterSql(filter)]
  const rows = await db.all<{ bucket: number; sketch: ArrayBuffer | Uint8Array }>(
    sql`SELECT bucket, sketch FROM duration_sketches WHERE ${sql.join(conditions, sql` AND `)}`,
  )
  const merged = boundaries.slice(1).map(() => newSketch())
  for (const row of rows) {
    // An hour that starts before the first boundary (half-hour zones) counts in the first point.
    const i = Math.max(0, pointIndex(boundaries, Math.max(Number(row.bucket), boundaries[0] as number)))
    merged[i]?.merge(decodeSketch(new Uint8Array(row.sketch)))
  }
  return merged.map(summarise)
}

/** p50 / p95 / p99 over `[from, to)` (rounded out to whole hours). */
export const readPercentiles = async (
  db: Db,
  filter: Omit<CountFilter, 'source'>,
  from: number,
  to: number,
): Promise<PercentileSummary> => {
  const [summary] = await readPercentileSeries(db, filter, [
    Math.floor(from / HOUR_MS) * HOUR_MS,
    Math.ceil(to / HOUR_MS) * HOUR_MS,
  ])
  return summary ?? summarise(newSketch())
}
