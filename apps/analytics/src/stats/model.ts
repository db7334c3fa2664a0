/** Request and response schemas of the statistics API (written once; types derived). */
import { t } from 'elysia'

const Iso = (description: string) => t.String({ description, examples: ['2026-03-01T00:00:00Z'] })

const TypeParam = t.Optional(
  t.String({
    maxLength: 130,
    description: 'An event type (`user.registered`), a prefix (`user.*`), or `*` / omitted for every type',
  }),
)
const TenantParam = t.Optional(
  t.String({
    minLength: 1,
    maxLength: 200,
    description:
      'Tenant; omitted = every tenant (service tokens only). User tokens read their own tenant only.',
  }),
)

/** Which events a series counts: one type or a prefix, one tenant (the caller's own for a user token). */
const FilterParams = { type: TypeParam, tenantId: TenantParam }

export const TimeseriesQuery = t.Object({
  ...FilterParams,
  source: t.Optional(t.String({ minLength: 1, maxLength: 63, description: 'Producing service' })),
  from: Iso('Start (ISO-8601), inclusive; rounded down to its bucket'),
  to: Iso('End (ISO-8601), exclusive; rounded up to a bucket boundary'),
  interval: t.String({ description: 'minute | hour | day | week | month', examples: ['day'] }),
  tz: t.Optional(
    t.String({ description: 'IANA time zone of the buckets. @default UTC', examples: ['Europe/Paris'] }),
  ),
  weekStart: t.Optional(t.String({ description: 'First day of a week: monday … sunday. @default monday' })),
})
export type TimeseriesQuery = typeof TimeseriesQuery.static

/** Where a point's bucket lies: every series answer's points start with these. */
const BucketSpan = {
  start: t.String({ description: 'Bucket start, UTC' }),
  end: t.String({ description: 'Bucket end (exclusive), UTC' }),
  local: t.String({ description: 'Bucket start as local wall-clock time in `timeZone`' }),
}

/** What every series answer says of its buckets: their interval and time zone. */
const SeriesOf = {
  interval: t.String(),
  timeZone: t.String(),
}

/** The time-zone parameters of the coarse series (uniques, percentiles). */
const ZoneParams = {
  tz: t.Optional(t.String({ description: 'IANA time zone of the buckets. @default UTC' })),
  weekStart: t.Optional(t.String({ description: 'First day of a week. @default monday' })),
}

const Point = t.Object({ ...BucketSpan, count: t.Integer() })
export type Point = typeof Point.static

export const TimeseriesResponse = t.Object({
  ...SeriesOf,
  granularity: t.String({ description: 'Stored bucket size the answer was read from (minute | hour | day)' }),
  approximate: t.Boolean({ description: 'True when part of the range was compacted past its retention' }),
  total: t.Integer(),
  points: t.Array(Point),
})
export type TimeseriesResponse = typeof TimeseriesResponse.static

export const SummaryQuery = t.Object({
  tenantId: TenantParam,
  from: Iso('Start (ISO-8601), inclusive; rounded down to the minute'),
  to: Iso('End (ISO-8601), exclusive; rounded up to the minute'),
  limit: t.Optional(
    t.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Length of the top lists' }),
  ),
})
export type SummaryQuery = typeof SummaryQuery.static

const Ranked = t.Object({ name: t.String(), count: t.Integer() })

export const SummaryResponse = t.Object({
  from: t.String(),
  to: t.String(),
  total: t.Integer(),
  types: t.Array(Ranked, { description: 'Totals per type, by name' }),
  topTypes: t.Array(Ranked, { description: 'Busiest types first' }),
  topSources: t.Array(Ranked, { description: 'Busiest producing services first' }),
})
export type SummaryResponse = typeof SummaryResponse.static

export const UniquesQuery = t.Object({
  ...FilterParams,
  from: Iso('Start (ISO-8601), inclusive'),
  to: Iso('End (ISO-8601), exclusive'),
  interval: t.Optional(t.String({ description: 'hour | day | week | month. @default day' })),
  ...ZoneParams,
})
export type UniquesQuery = typeof UniquesQuery.static

export const UniquesResponse = t.Object({
  ...SeriesOf,
  approximate: t.Boolean({ description: 'True when expired hourly sketches were replaced by daily ones' }),
  total: t.Integer({ description: 'Distinct actors over the whole range (not the sum of the points)' }),
  points: t.Array(t.Object({ ...BucketSpan, uniques: t.Integer() })),
})
export type UniquesResponse = typeof UniquesResponse.static

export const PercentilesQuery = t.Object({
  ...FilterParams,
  from: Iso('Start (ISO-8601), inclusive; rounded down to the hour'),
  to: Iso('End (ISO-8601), exclusive; rounded up to the hour'),
  interval: t.Optional(
    t.String({ description: 'hour | day | week | month: also return one point per bucket' }),
  ),
  ...ZoneParams,
})
export type PercentilesQuery = typeof PercentilesQuery.static

const Quantiles = {
  count: t.Integer({ description: 'Values seen' }),
  p50: t.Nullable(t.Number()),
  p95: t.Nullable(t.Number()),
  p99: t.Nullable(t.Number()),
}

export const PercentilesResponse = t.Object({
  field: t.Literal('durationMs'),
  ...Quantiles,
  points: t.Optional(
    t.Array(t.Object({ ...BucketSpan, ...Quantiles }), {
      description: 'Per bucket, when `interval` is given',
    }),
  ),
})
export type PercentilesResponse = typeof PercentilesResponse.static
