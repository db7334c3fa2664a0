/** `GET /v1/stats/{timeseries,summary,uniques,percentiles}`: a service token, or a user token with `analytics:read`. */
import { BEARER_SECURITY, type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { Elysia } from 'elysia'
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

/** The statistics routes. */
export const statsRoutes = ({ stats, auth, maxRangeMs = 400 * 86_400_000 }: StatsRoutesOptions) =>
  new Elysia({ name: 'analytics/stats', prefix: '/v1/stats' })
    .use(callerAuth({ ...auth, requiredScope: READ_SCOPE }))
    .get(
      '/timeseries',
      ({ query, caller }) => {
        const request = parseSeriesRequest(parseRange(query.from, query.to), query)
        const tenantId = tenantScope(caller, query.tenantId)
        const type = parseTypeFilter(query.type)
        return stats.timeseries(request, {
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(type !== undefined ? { type } : {}),
          ...(query.source !== undefined ? { source: query.source } : {}),
        })
      },
      {
        query: TimeseriesQuery,
        response: { 200: TimeseriesResponse, ...errors },
        detail: {
          tags: ['stats'],
          summary: 'Event counts per bucket, zero-filled, in a time zone',
          description: describe(
            'Buckets are local to `tz`: a day across a DST change is 23 or 25 hours, never missing or doubled.',
            'INVALID_RANGE',
            'INVALID_INTERVAL',
            'INVALID_TIME_ZONE',
            'INVALID_WEEK_START',
            'INVALID_TYPE',
            'TOO_MANY_POINTS',
          ),
          security,
        },
      },
    )
    .get(
      '/summary',
      ({ query, caller }) => {
        const range = parseRange(query.from, query.to, maxRangeMs)
        const tenantId = tenantScope(caller, query.tenantId)
        return stats.summary(
          range.from,
          range.to,
          tenantId !== undefined ? { tenantId } : {},
          query.limit ?? 10,
        )
      },
      {
        query: SummaryQuery,
        response: { 200: SummaryResponse, ...errors },
        detail: {
          tags: ['stats'],
          summary: 'Totals per type, top types and top sources over a range',
          description: describe('', 'INVALID_RANGE', 'RANGE_TOO_LONG'),
          security,
        },
      },
    )
    .get(
      '/uniques',
      ({ query, caller }) => {
        const request = parseSeriesRequest(parseRange(query.from, query.to), query, COARSE_INTERVALS)
        const tenantId = tenantScope(caller, query.tenantId)
        const type = parseTypeFilter(query.type)
        return stats.uniques(request, {
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(type !== undefined ? { type } : {}),
        })
      },
      {
        query: UniquesQuery,
        response: { 200: UniquesResponse, ...errors },
        detail: {
          tags: ['stats'],
          summary: 'Distinct actors per bucket (HyperLogLog, ~0.8% error) and over the whole range',
          description: describe(
            'Intervals: hour, day, week, month.',
            'INVALID_RANGE',
            'INVALID_INTERVAL',
            'INVALID_TIME_ZONE',
            'INVALID_TYPE',
            'TOO_MANY_POINTS',
          ),
          security,
        },
      },
    )
    .get(
      '/percentiles',
      ({ query, caller }) => {
        const range = parseRange(query.from, query.to, maxRangeMs)
        const series =
          query.interval === undefined ? undefined : parseSeriesRequest(range, query, COARSE_INTERVALS)
        const tenantId = tenantScope(caller, query.tenantId)
        const type = parseTypeFilter(query.type)
        const filter = {
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(type !== undefined ? { type } : {}),
        }
        return stats.percentiles(range.from, range.to, filter, series)
      },
      {
        query: PercentilesQuery,
        response: { 200: PercentilesResponse, ...errors },
        detail: {
          tags: ['stats'],
          summary: 'p50 / p95 / p99 of payload.durationMs (DDSketch, 1% relative accuracy)',
          description: describe(
            'Intervals (optional, for a series): hour, day, week, month.',
            'INVALID_RANGE',
            'RANGE_TOO_LONG',
            'INVALID_TYPE',
            'INVALID_INTERVAL',
            'INVALID_TIME_ZONE',
            'TOO_MANY_POINTS',
          ),
          security,
        },
      },
    )
