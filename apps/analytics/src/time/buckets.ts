/**
 * Bucket boundaries of a time series in a time zone. Each point is a whole local bucket
 * `[boundaries[i], boundaries[i + 1])`; day, week and month points start at local midnight, so a DST day
 * is 23 or 25 hours long and no day is missing or doubled.
 */
import {
  addDays,
  addMonths,
  type CivilDate,
  DAY_MS,
  HOUR_MS,
  isoWeekday,
  localDate,
  localParts,
  MINUTE_MS,
  startOfLocalDay,
} from './zone.ts'

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const
export type Interval = (typeof INTERVALS)[number]

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** Thrown when a series would have more points than allowed. */
export class TooManyPointsError extends Error {
  override readonly name = 'TooManyPointsError'
  constructor(
    readonly points: number,
    readonly max: number,
  ) {
    super(
      `the series would have ${points > max ? `more than ${max}` : points} points; at most ${max} allowed`,
    )
  }
}

export interface BucketOptions {
  /** Inclusive start (ms since epoch). */
  readonly from: number
  /** Exclusive end. */
  readonly to: number
  readonly interval: Interval
  /** IANA zone (already validated). */
  readonly timeZone: string
  /** @defaultValue 'monday' */
  readonly weekStart?: Weekday
  readonly maxPoints: number
}

/** Start of the local hour holding an instant (zones whose offsets are whole minutes). */
const floorLocalHour = (timeZone: string, instant: number): number => {
  const p = localParts(timeZone, instant)
  return Math.floor(instant / 1000) * 1000 - (p.minute * 60 + p.second) * 1000
}

const fixedStep = (to: number, start: number, step: number, max: number): number[] => {
  const points = Math.max(1, Math.ceil((to - start) / step))
  if (points > max) throw new TooManyPointsError(points, max)
  return Array.from({ length: points + 1 }, (_, i) => start + i * step)
}

const calendarStep = (
  options: BucketOptions,
  first: CivilDate,
  next: (d: CivilDate) => CivilDate,
): number[] => {
  const out: number[] = []
  let date = first
  let boundary = startOfLocalDay(options.timeZone, date)
  out.push(boundary)
  while (boundary < options.to || out.length === 1) {
    if (out.length > options.maxPoints) throw new TooManyPointsError(out.length, options.maxPoints)
    date = next(date)
    boundary = startOfLocalDay(options.timeZone, date)
    out.push(boundary)
  }
  return out
}

/**
 * Boundaries `[b0, b1, …, bn]` of the n points covering `[from, to)`: b0 is the start of the local
 * bucket holding `from`, bn the first boundary at or after `to`.
 * @throws TooManyPointsError when n would exceed `maxPoints`
 */
export const bucketBoundaries = (options: BucketOptions): number[] => {
  const { from, to, interval, timeZone, maxPoints } = options
  switch (interval) {
    case 'minute': {
      const start = Math.floor(from / MINUTE_MS) * MINUTE_MS
      return fixedStep(to, start, MINUTE_MS, maxPoints)
    }
    case 'hour': {
      const start = floorLocalHour(timeZone, from)
      // Whole-hour offsets (nearly every zone) keep local hours one UTC hour apart, DST included.
      const points = Math.ceil((to - start) / HOUR_MS)
      if (points > maxPoints + 1) throw new TooManyPointsError(points, maxPoints)
      const out = [start]
      let b = start
      while (b < to || out.length === 1) {
        b = Math.max(b + MINUTE_MS, floorLocalHour(timeZone, b + HOUR_MS))
        out.push(b)
        if (out.length - 1 > maxPoints) throw new TooManyPointsError(out.length - 1, maxPoints)
      }
      return out
    }
    case 'day':
      if ((to - from) / DAY_MS > maxPoints + 2)
        throw new TooManyPointsError(Math.ceil((to - from) / DAY_MS), maxPoints)
      return calendarStep(options, localDate(timeZone, from), (d) => addDays(d, 1))
    case 'week': {
      const weekStart = WEEKDAYS.indexOf(options.weekStart ?? 'monday') + 1
      const local = localDate(timeZone, from)
      const back = (isoWeekday(local) - weekStart + 7) % 7
      return calendarStep(options, addDays(local, -back), (d) => addDays(d, 7))
    }
    case 'month': {
      const local = localDate(timeZone, from)
      return calendarStep(options, { year: local.year, month: local.month, day: 1 }, (d) => addMonths(d, 1))
    }
  }
}

/** Index of the point holding an instant, or -1 outside the boundaries (binary search). */
export const pointIndex = (boundaries: readonly number[], instant: number): number => {
  let lo = 0
  let hi = boundaries.length - 1
  if (instant < (boundaries[0] as number) || instant >= (boundaries[hi] as number)) return -1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if ((boundaries[mid] as number) <= instant) lo = mid
    else hi = mid
  }
  return lo
}
