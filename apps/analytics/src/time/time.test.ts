import { describe, expect, it } from 'bun:test'
import { bucketBoundaries, pointIndex, TooManyPointsError } from './buckets.ts'
import { canonicalTimeZone, DAY_MS, HOUR_MS, localParts, startOfLocalDay } from './zone.ts'

const iso = (t: number) => new Date(t).toISOString()

describe('startOfLocalDay', () => {
  it('finds local midnight on both sides of a DST change', () => {
    expect(iso(startOfLocalDay('Europe/Paris', { year: 2026, month: 3, day: 29 }))).toBe(
      '2026-03-28T23:00:00.000Z',
    )
    expect(iso(startOfLocalDay('Europe/Paris', { year: 2026, month: 3, day: 30 }))).toBe(
      '2026-03-29T22:00:00.000Z',
    )
    expect(iso(startOfLocalDay('America/New_York', { year: 2026, month: 11, day: 1 }))).toBe(
      '2026-11-01T04:00:00.000Z',
    )
    expect(iso(startOfLocalDay('America/New_York', { year: 2026, month: 11, day: 2 }))).toBe(
      '2026-11-02T05:00:00.000Z',
    )
  })

  it('starts a day whose midnight falls in a DST gap at the end of the gap', () => {
    // Santiago springs forward at 00:00 → 01:00 (2026-09-06): that day begins at 01:00 local, 04:00 UTC.
    const start = startOfLocalDay('America/Santiago', { year: 2026, month: 9, day: 6 })
    expect(iso(start)).toBe('2026-09-06T04:00:00.000Z')
    expect(localParts('America/Santiago', start)).toMatchObject({ day: 6, hour: 1, minute: 0 })
  })
})

describe('bucketBoundaries', () => {
  const days = (timeZone: string, from: string, to: string) =>
    bucketBoundaries({
      from: Date.parse(from),
      to: Date.parse(to),
      interval: 'day',
      timeZone,
      maxPoints: 100,
    })

  it.each([
    ['Europe/Paris', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z', 'spring'],
    ['Europe/Paris', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z', 'fall'],
    ['America/New_York', '2026-03-06T17:00:00Z', '2026-03-10T17:00:00Z', 'spring'],
    ['America/New_York', '2026-10-30T16:00:00Z', '2026-11-03T17:00:00Z', 'fall'],
  ])('gives one point per local day in %s from %s to %s (the %s change)', (zone, from, to, season) => {
    const b = days(zone, from, to)
    expect(b.length - 1).toBe(5)
    const lengths = b.slice(1).map((x, i) => (x - (b[i] as number)) / HOUR_MS)
    expect(lengths.filter((h) => h !== 24)).toEqual([season === 'spring' ? 23 : 25])
    const dates = b.slice(0, -1).map((x) => localParts(zone, x))
    for (const p of dates) expect([p.hour, p.minute]).toEqual([0, 0])
    expect(new Set(dates.map((p) => `${p.month}-${p.day}`)).size).toBe(5)
  })

  it('gives 25 hourly points on the fall-back day, the repeated hour twice', () => {
    const day = startOfLocalDay('Europe/Paris', { year: 2026, month: 10, day: 25 })
    const b = bucketBoundaries({
      from: day,
      to: day + 25 * HOUR_MS,
      interval: 'hour',
      timeZone: 'Europe/Paris',
      maxPoints: 100,
    })
    expect(b.length - 1).toBe(25)
    expect(
      b
        .slice(0, -1)
        .map((x) => localParts('Europe/Paris', x).hour)
        .filter((h) => h === 2),
    ).toHaveLength(2)
  })

  it('aligns half-hour zones to their own local hours', () => {
    const b = bucketBoundaries({
      from: Date.parse('2026-01-01T00:10:00Z'),
      to: Date.parse('2026-01-01T02:00:00Z'),
      interval: 'hour',
      timeZone: 'Asia/Kolkata',
      maxPoints: 10,
    })
    expect(b.map(iso)).toEqual([
      '2025-12-31T23:30:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T01:30:00.000Z',
      '2026-01-01T02:30:00.000Z',
    ])
  })

  it('starts weeks on the requested weekday and months on the 1st', () => {
    const from = Date.parse('2026-03-04T12:00:00Z') // a Wednesday
    const to = from + 20 * DAY_MS
    const sundays = bucketBoundaries({
      from,
      to,
      interval: 'week',
      timeZone: 'UTC',
      weekStart: 'sunday',
      maxPoints: 10,
    })
    expect(iso(sundays[0] as number)).toBe('2026-03-01T00:00:00.000Z')
    const months = bucketBoundaries({
      from,
      to: Date.parse('2026-05-02T00:00:00Z'),
      interval: 'month',
      timeZone: 'Europe/Paris',
      maxPoints: 10,
    })
    expect(months.map(iso)).toEqual([
      '2026-02-28T23:00:00.000Z',
      '2026-03-31T22:00:00.000Z',
      '2026-04-30T22:00:00.000Z',
      '2026-05-31T22:00:00.000Z',
    ])
  })

  it('refuses a series longer than the cap', () => {
    const from = Date.parse('2026-01-01T00:00:00Z')
    for (const interval of ['minute', 'hour', 'day'] as const) {
      expect(() =>
        bucketBoundaries({
          from,
          to: from + 400 * DAY_MS,
          interval,
          timeZone: 'Europe/Paris',
          maxPoints: 366,
        }),
      ).toThrow(TooManyPointsError)
    }
  })

  it('finds the point holding an instant', () => {
    const b = [0, 10, 20]
    expect([
      pointIndex(b, -1),
      pointIndex(b, 0),
      pointIndex(b, 9),
      pointIndex(b, 10),
      pointIndex(b, 20),
    ]).toEqual([-1, 0, 0, 1, -1])
  })
})

describe('canonicalTimeZone', () => {
  it('accepts IANA names and refuses unknown ones', () => {
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York')
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined()
    expect(canonicalTimeZone('')).toBeUndefined()
  })
})
