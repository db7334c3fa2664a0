/** The numbers behind the dashboard: rates per type (last hour / day), uniques, pipeline health, jobs. */

import type { RedisClient } from '@flotilla/streams'
import { sql } from 'drizzle-orm'
import { readCounts } from '../counts/store.ts'
import type { Db } from '../db/client.ts'
import type { Grain } from '../db/schema.ts'
import { readPercentiles } from '../percentiles/service.ts'
import { readPipelineHealth } from '../pipeline/health.ts'
import { GRAIN_MS } from '../time/cover.ts'
import { HOUR_MS } from '../time/zone.ts'
import type { Uniques } from '../uniques/service.ts'
import type { DashboardData } from './model.ts'

export interface DashboardDeps {
  readonly db: Db
  readonly redis: RedisClient
  readonly uniques: Uniques
  readonly stream: string
  readonly now?: () => number
}

// Types drawn as their own line; the rest are summed into "other".
const MAX_SERIES = 6

/** Creates the dashboard data loader. */
export const createDashboardData = (deps: DashboardDeps) => {
  const now = deps.now ?? Date.now

  const chart = async (
    grain: Grain,
    points: number,
    tenantId: string | undefined,
    keep?: readonly string[],
  ) => {
    const step = GRAIN_MS[grain]
    const end = Math.floor(now() / step) * step + step
    const start = end - points * step
    const filter = tenantId === undefined ? {} : { tenantId }
    const rows = await readCounts(deps.db, { grain, start, end, filter, groupBy: ['bucket', 'type'] })
    const totals = new Map<string, number>()
    for (const r of rows) totals.set(r.type, (totals.get(r.type) ?? 0) + r.count)
    const ranked = keep ?? [...totals].sort((a, b) => b[1] - a[1]).map(([t]) => t)
    const shown = ranked.slice(0, MAX_SERIES)
    const index = new Map(shown.map((t, i) => [t, i]))
    const values = [...shown, 'other'].map(() => new Array<number>(points).fill(0))
    for (const r of rows) {
      const i = Math.floor((r.bucket - start) / step)
      const series = values[index.get(r.type) ?? shown.length]
      if (series && i >= 0 && i < points) series[i] = (series[i] ?? 0) + r.count
    }
    const series = [...shown, 'other']
      .map((name, i) => ({ name, values: values[i] as number[] }))
      .filter((s) => s.name !== 'other' || s.values.some((v) => v > 0))
    return {
      data: { times: Array.from({ length: points }, (_, i) => (start + i * step) / 1000), series },
      totals,
      start,
      end,
    }
  }

  return {
    /** Loads everything the page shows, for one tenant or all. */
    async load(tenantId?: string): Promise<DashboardData> {
      const day = await chart('hour', 24, tenantId)
      const ranked = [...day.totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      const hour = await chart(
        'minute',
        60,
        tenantId,
        ranked.map(([t]) => t),
      )
      const lastHour = [...hour.totals.values()].reduce((n, c) => n + c, 0)
      const lastDay = [...day.totals.values()].reduce((n, c) => n + c, 0)

      const where = tenantId === undefined ? sql`` : sql` AND tenant_id = ${tenantId}`
      const series = (
        await deps.db.all<{ type: string; tenant_id: string }>(
          sql`SELECT DISTINCT type, tenant_id FROM counts WHERE grain = 'minute' AND bucket >= ${day.start}${where}`,
        )
      ).map((r) => ({ type: r.type, tenantId: r.tenant_id }))
      const at = now()
      const hourly: number[] = []
      for (let t = day.start; t < day.end; t += HOUR_MS)
        hourly.push((await deps.uniques.count(series, t, t + HOUR_MS, at)).value)
      // Hourly sketches are the finest: "this hour" is exact where "the last 60 minutes" would not be.
      const thisHour = Math.floor(at / HOUR_MS) * HOUR_MS
      const uniquesHour = await deps.uniques.count(series, thisHour, thisHour + HOUR_MS, at)
      const uniquesDay = await deps.uniques.count(series, day.start, day.end, at)

      const runs = await deps.db.all<{
        job: string
        instance: string
        started_at: number
        result: string | null
      }>(sql`SELECT job, instance, started_at, result FROM job_runs ORDER BY started_at DESC LIMIT 8`)
      return {
        generatedAt: new Date(at).toISOString(),
        tenantId: tenantId ?? null,
        totals: { lastHour, lastDay, perMinute: Math.round((lastHour / 60) * 10) / 10 },
        lastHour: hour.data,
        lastDay: day.data,
        uniques: {
          thisHour: uniquesHour.value,
          lastDay: uniquesDay.value,
          hourly: { times: day.data.times, series: [{ name: 'unique actors', values: hourly }] },
        },
        durations: await readPercentiles(
          deps.db,
          tenantId === undefined ? {} : { tenantId },
          day.start,
          day.end,
        ),
        topTypes: ranked.slice(0, 10).map(([name, count]) => ({ name, count })),
        pipeline: await readPipelineHealth(deps.redis, deps.stream),
        jobs: runs.map((r) => ({
          job: r.job,
          instance: r.instance,
          startedAt: new Date(Number(r.started_at)).toISOString(),
          ok: !(r.result ?? '').startsWith('{"error"'),
        })),
      }
    },
  }
}

export type DashboardDataLoader = ReturnType<typeof createDashboardData>
