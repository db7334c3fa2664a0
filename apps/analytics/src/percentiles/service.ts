/** Percentiles of `payload.durationMs` over a range: merges the hourly DDSketches of the matching series. */
import { type SQL, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { type CountFilter, filterSql } from '../counts/filter.ts'
import { HOUR_MS } from '../time/zone.ts'
import { decodeSketch, newSketch } from './sketch.ts'

export interface PercentileSummary {
  readonly count: number
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
}

/** p50 / p95 / p99 over `[from, to)` (rounded out to whole hours), 1% relative accuracy. */
export const readPercentiles = async (
  db: Db,
  filter: Omit<CountFilter, 'source'>,
  from: number,
  to: number,
): Promise<PercentileSummary> => {
  const start = Math.floor(from / HOUR_MS) * HOUR_MS
  const end = Math.ceil(to / HOUR_MS) * HOUR_MS
  const conditions: SQL[] = [sql`bucket >= ${start}`, sql`bucket < ${end}`, ...filterSql(filter)]
  const rows = await db.all<{ sketch: ArrayBuffer | Uint8Array }>(
    sql`SELECT sketch FROM duration_sketches WHERE ${sql.join(conditions, sql` AND `)}`,
  )
  const merged = newSketch()
  for (const row of rows) merged.merge(decodeSketch(new Uint8Array(row.sketch)))
  if (merged.count === 0) return { count: 0, p50: null, p95: null, p99: null }
  const q = (p: number) => Math.round(merged.getValueAtQuantile(p) * 100) / 100
  return { count: Math.round(merged.count), p50: q(0.5), p95: q(0.95), p99: q(0.99) }
}
