/** The statistics queries: zone-aware time series, range summaries, uniques and duration percentiles. */
import { sql } from 'drizzle-orm'
import { type CountFilter, filterSql } from '../counts/filter.ts'
import { readCounts } from '../counts/store.ts'
import type { Db } from '../db/client.ts'
import { readPercentileSeries, readPercentiles } from '../percentiles/service.ts'
import {
  bucketBoundaries,
  type Interval,
  pointIndex,
  TooManyPointsError,
  type Weekday,
} from '../time/buckets.ts'
import { alignedGrain, coverRange, GRAIN_MS } from '../time/cover.ts'
import { DAY_MS, HOUR_MS, localParts } from '../time/zone.ts'
import type { SeriesKey, Uniques } from '../uniques/service.ts'
import type { PercentilesResponse, SummaryResponse, TimeseriesResponse, UniquesResponse } from './model.ts'
import { tooManyPoints } from './validate.ts'

export interface StatsDeps {
  readonly db: Db
  readonly uniques: Uniques
  /** Most points one series may return. */
  readonly maxPoints: number
  /** Minute rows older than this are compacted (answers from them are approximate). */
  readonly minuteRetentionMs: number
  readonly hourRetentionMs: number
  readonly now?: () => number
}

export interface SeriesRequest {
  readonly from: number
  readonly to: number
  readonly interval: Interval
  readonly timeZone: string
  readonly weekStart: Weekday
}

const iso = (t: number) => new Date(t).toISOString()

/** Local wall-clock time `YYYY-MM-DDTHH:mm` of an instant. */
const localLabel = (timeZone: string, t: number) => {
  const p = localParts(timeZone, t)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`
}

/** Creates the statistics service. */
export const createStats = (deps: StatsDeps) => {
  const { db } = deps
  const now = deps.now ?? Date.now

  const boundaries = (r: SeriesRequest) => {
    try {
      return bucketBoundaries({ ...r, maxPoints: deps.maxPoints })
    } catch (error) {
      if (error instanceof TooManyPointsError) throw tooManyPoints(error.points, error.max)
      throw error
    }
  }

  const compactedBefore = (grain: 'minute' | 'hour' | 'day') =>
    grain === 'minute' ? now() - deps.minuteRetentionMs : grain === 'hour' ? now() - deps.hourRetentionMs : 0

  return {
    /** Zero-filled counts per local bucket. */
    async timeseries(r: SeriesRequest, filter: CountFilter): Promise<TimeseriesResponse> {
      const b = boundaries(r)
      const grain = alignedGrain(b)
      const start = b[0] as number
      const end = b.at(-1) as number
      const counts = new Array<number>(b.length - 1).fill(0)
      for (const row of await readCounts(db, { grain, start, end, filter, groupBy: ['bucket'] })) {
        const i = pointIndex(b, row.bucket)
        if (i >= 0) counts[i] = (counts[i] ?? 0) + row.count
      }
      const points = counts.map((count, i) => ({
        start: iso(b[i] as number),
        end: iso(b[i + 1] as number),
        local: localLabel(r.timeZone, b[i] as number),
        count,
      }))
      return {
        interval: r.interval,
        timeZone: r.timeZone,
        granularity: grain,
        // Compacted rows sit at the start of their hour/day: finer intervals over them are not exact.
        approximate:
          GRAIN_MS[grain] < GRAIN_MS.day && start < compactedBefore(grain === 'minute' ? 'minute' : 'hour'),
        total: counts.reduce((n, c) => n + c, 0),
        points,
      }
    },

    /** Totals per type, top types and top sources over a range. */
    async summary(from: number, to: number, filter: CountFilter, limit: number): Promise<SummaryResponse> {
      const byType = new Map<string, number>()
      const bySource = new Map<string, number>()
      for (const segment of coverRange(from, to)) {
        const rows = await readCounts(db, { ...segment, filter, groupBy: ['type', 'source'] })
        for (const row of rows) {
          byType.set(row.type, (byType.get(row.type) ?? 0) + row.count)
          bySource.set(row.source, (bySource.get(row.source) ?? 0) + row.count)
        }
      }
      const ranked = (m: Map<string, number>) =>
        [...m]
          .map(([name, count]) => ({ name, count }))
          .sort((x, y) => y.count - x.count || x.name.localeCompare(y.name))
      const types = [...byType]
        .map(([name, count]) => ({ name, count }))
        .sort((x, y) => x.name.localeCompare(y.name))
      return {
        from: iso(Math.floor(from / 60_000) * 60_000),
        to: iso(Math.ceil(to / 60_000) * 60_000),
        total: types.reduce((n, x) => n + x.count, 0),
        types,
        topTypes: ranked(byType).slice(0, limit),
        topSources: ranked(bySource).slice(0, limit),
      }
    },

    /** Distinct actors per local bucket, and over the whole range. */
    async uniques(r: SeriesRequest, filter: Omit<CountFilter, 'source'>): Promise<UniquesResponse> {
      const b = boundaries(r)
      const start = b[0] as number
      const end = b.at(-1) as number
      const series = await seriesIn(filter, start, end)
      let approximate = false
      const points = []
      for (let i = 0; i + 1 < b.length; i++) {
        const c = await deps.uniques.count(series, b[i] as number, b[i + 1] as number, now())
        approximate ||= c.approximate || (b[i] as number) % HOUR_MS !== 0
        points.push({
          start: iso(b[i] as number),
          end: iso(b[i + 1] as number),
          local: localLabel(r.timeZone, b[i] as number),
          uniques: c.value,
        })
      }
      const total = await deps.uniques.count(series, start, end, now())
      return {
        interval: r.interval,
        timeZone: r.timeZone,
        approximate: approximate || total.approximate,
        total: total.value,
        points,
      }
    },

    /** p50 / p95 / p99 of `payload.durationMs` over the range, and per local bucket when asked. */
    async percentiles(
      from: number,
      to: number,
      filter: Omit<CountFilter, 'source'>,
      series?: SeriesRequest,
    ): Promise<PercentilesResponse> {
      const total = await readPercentiles(db, filter, from, to)
      if (!series) return { field: 'durationMs', ...total }
      const b = boundaries(series)
      const points = (await readPercentileSeries(db, filter, b)).map((q, i) => ({
        start: iso(b[i] as number),
        end: iso(b[i + 1] as number),
        local: localLabel(series.timeZone, b[i] as number),
        ...q,
      }))
      return { field: 'durationMs', ...total, points }
    },
  }

  /** The (type, tenant) series with counts in a range: the HLL keys worth counting. */
  async function seriesIn(
    filter: Omit<CountFilter, 'source'>,
    start: number,
    end: number,
  ): Promise<SeriesKey[]> {
    // Minute rows are never deleted, only compacted to their hour's start, so they list every series.
    const day = Math.floor(start / DAY_MS) * DAY_MS
    const where = [sql`grain = 'minute'`, sql`bucket >= ${day}`, sql`bucket < ${end}`, ...filterSql(filter)]
    const rows = await db.all<{ type: string; tenant_id: string }>(
      sql`SELECT DISTINCT type, tenant_id FROM counts WHERE ${sql.join(where, sql` AND `)}`,
    )
    return rows.map((r) => ({ type: r.type, tenantId: r.tenant_id }))
  }
}

export type Stats = ReturnType<typeof createStats>
