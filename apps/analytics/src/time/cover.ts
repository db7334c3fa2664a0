/** Splits a UTC range into the coarsest aligned buckets: minutes at the ragged edges, hours, then whole days. */
import type { Grain } from '../db/schema.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS } from './zone.ts'

export const GRAIN_MS: Readonly<Record<Grain, number>> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS }

/** A run of whole buckets of one grain: `[start, end)`. */
export interface Segment {
  readonly grain: Grain
  readonly start: number
  readonly end: number
}

const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step
const floorTo = (t: number, step: number) => Math.floor(t / step) * step

/**
 * Covers `[from, to)` (both rounded out to whole minutes) with the fewest segments: day-aligned middle,
 * hour-aligned shoulders, minute edges. `finest` stops the descent (uniques have no minute buckets;
 * their edges round out to hours).
 * @example coverRange(Date.parse('2026-01-01T10:30Z'), Date.parse('2026-01-03T01:00Z'))
 * // minute 10:30–11:00, hour 11:00–24:00, day Jan 2, hour 00:00–01:00 Jan 3
 */
export const coverRange = (from: number, to: number, finest: Grain = 'minute'): Segment[] => {
  const step = GRAIN_MS[finest]
  const a = floorTo(from, step)
  const b = ceilTo(to, step)
  const out: Segment[] = []
  const push = (grain: Grain, start: number, end: number) => {
    if (end > start) out.push({ grain, start, end })
  }
  const dayA = ceilTo(a, DAY_MS)
  const dayB = floorTo(b, DAY_MS)
  if (dayB > dayA) {
    const hourA = ceilTo(a, HOUR_MS)
    const hourB = floorTo(b, HOUR_MS)
    push('minute', a, hourA)
    push('hour', hourA, dayA)
    push('day', dayA, dayB)
    push('hour', dayB, hourB)
    push('minute', hourB, b)
    return out
  }
  const hourA = ceilTo(a, HOUR_MS)
  const hourB = floorTo(b, HOUR_MS)
  if (hourB > hourA) {
    push('minute', a, hourA)
    push('hour', hourA, hourB)
    push('minute', hourB, b)
    return out
  }
  push('minute', a, b)
  return out
}

/** The coarsest grain whose buckets line up with every boundary (so each bucket falls in exactly one point). */
export const alignedGrain = (boundaries: readonly number[]): Grain => {
  if (boundaries.every((b) => b % DAY_MS === 0)) return 'day'
  if (boundaries.every((b) => b % HOUR_MS === 0)) return 'hour'
  return 'minute'
}
