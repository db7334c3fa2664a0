/** Turning query strings into a checked range, interval, zone and type, with one 422 code per problem. */

import { TYPE_FILTER_PATTERN } from '../counts/filter.ts'
import { ERRORS, type ErrorCode } from '../errors.ts'
import { INTERVALS, type Interval, WEEKDAYS, type Weekday } from '../time/buckets.ts'
import { canonicalTimeZone } from '../time/zone.ts'

const invalid = (code: ErrorCode, message: string, details?: unknown) =>
  ERRORS.error(422, code, message, details === undefined ? {} : { details })

const typePattern = new RegExp(TYPE_FILTER_PATTERN)
// Accepts ISO-8601 with a zone (Z or ±hh:mm), or a date alone (UTC midnight).
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/** Parses `from`/`to`; 422 `INVALID_RANGE` when either is not ISO-8601 or `from` is not before `to`. */
export const parseRange = (from: string, to: string, maxSpanMs?: number): { from: number; to: number } => {
  const a = ISO.test(from) ? Date.parse(from) : Number.NaN
  const b = ISO.test(to) ? Date.parse(to) : Number.NaN
  if (Number.isNaN(a) || Number.isNaN(b)) {
    throw invalid(
      'INVALID_RANGE',
      'from and to must be ISO-8601 timestamps with a zone (2026-03-01T00:00:00Z)',
      {
        from,
        to,
      },
    )
  }
  if (a >= b) throw invalid('INVALID_RANGE', 'from must be before to', { from, to })
  if (maxSpanMs !== undefined && b - a > maxSpanMs) {
    throw invalid('RANGE_TOO_LONG', `the range may span at most ${Math.round(maxSpanMs / 86_400_000)} days`, {
      maxDays: Math.round(maxSpanMs / 86_400_000),
    })
  }
  return { from: a, to: b }
}

/** 422 `INVALID_INTERVAL` unless one of `allowed`. */
export const parseInterval = (
  value: string | undefined,
  allowed: readonly Interval[] = INTERVALS,
): Interval => {
  const interval = value ?? 'day'
  if (!(allowed as readonly string[]).includes(interval)) {
    throw invalid('INVALID_INTERVAL', `interval must be one of ${allowed.join(', ')}`, {
      interval: value,
      allowed,
    })
  }
  return interval as Interval
}

/** 422 `INVALID_TIME_ZONE` unless an IANA zone this runtime knows. */
export const parseTimeZone = (value: string | undefined): string => {
  if (value === undefined) return 'UTC'
  const zone = canonicalTimeZone(value)
  if (!zone)
    throw invalid('INVALID_TIME_ZONE', `unknown time zone "${value.slice(0, 64)}"; use an IANA name`, {})
  return zone
}

/** 422 `INVALID_WEEK_START` unless a weekday name. */
export const parseWeekStart = (value: string | undefined): Weekday => {
  const day = (value ?? 'monday').toLowerCase()
  if (!(WEEKDAYS as readonly string[]).includes(day)) {
    throw invalid('INVALID_WEEK_START', `weekStart must be one of ${WEEKDAYS.join(', ')}`, {
      allowed: WEEKDAYS,
    })
  }
  return day as Weekday
}

/** 422 `INVALID_TYPE` unless an event type, a `prefix.*`, or `*`. */
export const parseTypeFilter = (value: string | undefined): string | undefined => {
  if (value === undefined || value === '') return undefined
  if (!typePattern.test(value)) {
    throw invalid('INVALID_TYPE', 'type must be an event type (user.registered), a prefix (user.*) or *', {})
  }
  return value
}

/** The 422 for a series longer than the cap. */
export const tooManyPoints = (points: number, max: number) =>
  invalid(
    'TOO_MANY_POINTS',
    `the series would have ${points > max ? `more than ${max}` : points} points; at most ${max} are returned per request — narrow the range or use a coarser interval`,
    { max },
  )

/** Calendar intervals a sketch-based series (uniques, percentiles) can use: no minutes. */
export const COARSE_INTERVALS: readonly Interval[] = ['hour', 'day', 'week', 'month']

/** A bucketed series request from its query fields: the range, the interval, the zone and the week start. */
export const parseSeriesRequest = (
  range: ReturnType<typeof parseRange>,
  query: { readonly interval?: string; readonly tz?: string; readonly weekStart?: string },
  allowed: readonly Interval[] = INTERVALS,
) => ({
  ...range,
  interval: parseInterval(query.interval, allowed),
  timeZone: parseTimeZone(query.tz),
  weekStart: parseWeekStart(query.weekStart),
})
