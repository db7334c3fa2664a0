/** `GET /v1/stats/{timeseries,summary,uniques,percentiles}`: a service token, or a user token with `analytics:read`. */
import {
  BEARER_SECURITY,
  type Caller,
  type CallerAuthOptions,
  callerAuth,
  tenantScope,
} from '@flotilla/service-kit'
import { Elysia, type TSchema } from 'elysia'
import { READ_SCOPE } from '../auth/tenant.ts'
import { ERRORS, ErrorBody, type ErrorCode } from '../errors.ts'
import {
  PercentilesQuery,
  PercentilesResponse,
  SummaryQuery,
  SummaryResponse,
  TimeseriesQuery,
  TimeseriesResponse,
  UniquesQuery,
  UniquesResponse,
} from './model.ts'
import type { Stats } from './service.ts'
import { COARSE_INTERVALS, parseRange, parseSeriesRequest, parseTypeFilter } from './validate.ts'

export interface StatsRoutesOptions {
  readonly stats: Stats
  readonly auth: Omit<CallerAuthOptions, 'requiredScope'>
  /** Longest range a summary or percentile query may span. @defaultValue 400 days */
  readonly maxRangeMs?: number
}

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody }
/** A route's description: its text, then its own codes and those every statistics route shares. */
const describe = (text: string, ...codes: ErrorCode[]) =>
  ERRORS.describe(
    text,
    ...codes,
    'INVALID_TOKEN',
    'INSUFFICIENT_SCOPE',
    'TENANT_REQUIRED',
    'NOT_FOUND',
    'VALIDATION_FAILED',
  )
const security = [{ [BEARER_SECURITY]: [] }]
/** What every series route (timeseries, uniques, percentiles with an interval) may answer besides 2xx. */
const SERIES_CODES = [
  'INVALID_RANGE',
  'INVALID_INTERVAL',
  'INVALID_TIME_ZONE',
  'INVALID_TYPE',
  'TOO_MANY_POINTS',
] as const satisfies readonly ErrorCode[]

/** A statistics route's options: its query and answer schemas, and its OpenAPI summary and description. */
const routeOptions = <Query extends TSchema, Answer extends TSchema>(
  query: Query,
  answer: Answer,
  summary: string,
  description: string,
) => ({
  query,
  response: { 200: answer, ...errors },
  detail: { tags: ['stats'], summary, description, security },
})

/** The tenant the caller may read (its own for a user token) and the type filter of a query. */
const scopeOf = (caller: Caller, query: { readonly tenantId?: string; readonly type?: string }) => {
  const tenantId = tenantScope(caller, query.tenantId)
  const type = parseTypeFilter(query.type)
  return { ...(tenantId !== undefined ? { tenantId } : {}), ...(type !== undefined ? { type } : {}) }
}

/** The statistics routes. */
export const statsRoutes = ({ stats, auth, maxRangeMs = 400 * 86_400_000 }: StatsRoutesOptions) =>
  new Elysia({ name: 'analytics/stats', prefix: '/v1/stats' })
    .use(callerAuth({ ...auth, requiredScope: READ_SCOPE }))
    .get(
      '/timeseries',
      ({ query, caller }) => {
        const request = parseSeriesRequest(parseRange(query.from, query.to), query)
        return stats.timeseries(request, {
          ...scopeOf(caller, query),
          ...(query.source !== undefined ? { source: query.source } : {}),
        })
      },
      routeOptions(
        TimeseriesQuery,
        TimeseriesResponse,
        'Event counts per bucket, zero-filled, in a time zone',
        describe(
          'Buckets are local to `tz`: a day across a DST change is 23 or 25 hours, never missing or doubled.',
          ...SERIES_CODES,
          'INVALID_WEEK_START',
        ),
      ),
    )
    .get(
      '/summary',
      ({ query, caller }) => {
        const range = parseRange(query.from, query.to, maxRangeMs)
        return stats.summary(range.from, range.to, scopeOf(caller, query), query.limit ?? 10)
      },
      routeOptions(
        SummaryQuery,
        SummaryResponse,
        'Totals per type, top types and top sources over a range',
        describe('', 'INVALID_RANGE', 'RANGE_TOO_LONG'),
      ),
    )
    .get(
      '/uniques',
      ({ query, caller }) => {
        const request = parseSeriesRequest(parseRange(query.from, query.to), query, COARSE_INTERVALS)
        return stats.uniques(request, scopeOf(caller, query))
      },
      routeOptions(
        UniquesQuery,
        UniquesResponse,
        'Distinct actors per bucket (HyperLogLog, ~0.8% error) and over the whole range',
        describe('Intervals: hour, day, week, month.', ...SERIES_CODES),
      ),
    )
    .get(
      '/percentiles',
      ({ query, caller }) => {
        const range = parseRange(query.from, query.to, maxRangeMs)
        const series =
          query.interval === undefined ? undefined : parseSeriesRequest(range, query, COARSE_INTERVALS)
        return stats.percentiles(range.from, range.to, scopeOf(caller, query), series)
      },
      routeOptions(
        PercentilesQuery,
        PercentilesResponse,
        'p50 / p95 / p99 of payload.durationMs (DDSketch, 1% relative accuracy)',
        describe(
          'Intervals (optional, for a series): hour, day, week, month.',
          ...SERIES_CODES,
          'RANGE_TOO_LONG',
        ),
      ),
    )
