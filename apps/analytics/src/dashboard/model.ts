/** The JSON behind the dashboard (`GET /dashboard/data`), written once as a schema. */
import { t } from 'elysia'

/** A chart's data: x in Unix seconds, one array of counts per series. */
const ChartData = t.Object({
  times: t.Array(t.Number()),
  series: t.Array(t.Object({ name: t.String(), values: t.Array(t.Number()) })),
})
export type ChartData = typeof ChartData.static

export const GroupHealth = t.Object({
  group: t.String(),
  exists: t.Boolean({ description: 'False when the group does not exist yet (its service never started)' }),
  lag: t.Nullable(t.Integer()),
  pending: t.Integer(),
  consumers: t.Integer(),
  deadLetters: t.Integer(),
  status: t.Union([t.Literal('ok'), t.Literal('behind'), t.Literal('dead-letters'), t.Literal('missing')]),
})
export type GroupHealth = typeof GroupHealth.static

export const DashboardData = t.Object({
  generatedAt: t.String(),
  tenantId: t.Nullable(t.String()),
  totals: t.Object({ lastHour: t.Integer(), lastDay: t.Integer(), perMinute: t.Number() }),
  lastHour: ChartData,
  lastDay: ChartData,
  uniques: t.Object({ thisHour: t.Integer(), lastDay: t.Integer(), hourly: ChartData }),
  durations: t.Object({
    count: t.Integer(),
    p50: t.Nullable(t.Number()),
    p95: t.Nullable(t.Number()),
    p99: t.Nullable(t.Number()),
  }),
  topTypes: t.Array(t.Object({ name: t.String(), count: t.Integer() })),
  pipeline: t.Array(GroupHealth),
  jobs: t.Array(t.Object({ job: t.String(), instance: t.String(), startedAt: t.String(), ok: t.Boolean() })),
})
export type DashboardData = typeof DashboardData.static
