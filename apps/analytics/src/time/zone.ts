/**
 * Time-zone arithmetic with `Intl.DateTimeFormat` only: local wall-clock parts of an instant, and the
 * UTC instant where a local calendar day starts (correct across DST gaps and overlaps).
 */

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** A calendar date (month 1-12). */
export interface CivilDate {
  readonly year: number
  readonly month: number
  readonly day: number
}

export interface LocalParts extends CivilDate {
  readonly hour: number
  readonly minute: number
  readonly second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/**
 * The canonical name of an IANA time zone, or `undefined` when the runtime does not know it.
 * @example canonicalTimeZone('europe/paris') // 'Europe/Paris'
 */
export const canonicalTimeZone = (timeZone: string): string | undefined => {
  if (timeZone.length === 0 || timeZone.length > 64) return undefined
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

/** Local wall-clock parts of an instant in a zone. */
export const localParts = (timeZone: string, instant: number): LocalParts => {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 }
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type in out) out[part.type as keyof typeof out] = Number(part.value)
  }
  return out
}

/** Offset of the zone from UTC at an instant, in ms (Paris in winter: +3_600_000). */
const offsetAt = (timeZone: string, instant: number): number => {
  const p = localParts(timeZone, instant)
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
  return wall - Math.floor(instant / 1000) * 1000
}

/** The date `days` after a civil date (negative goes back). */
export const addDays = (date: CivilDate, days: number): CivilDate => {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days))
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

/** The first day of the month `months` after the month of a civil date. */
export const addMonths = (date: CivilDate, months: number): CivilDate => {
  const d = new Date(Date.UTC(date.year, date.month - 1 + months, 1))
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: 1 }
}

/** Day of week, ISO numbering: 1 = Monday … 7 = Sunday. */
export const isoWeekday = (date: CivilDate): number => {
  const wd = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()
  return wd === 0 ? 7 : wd
}

const compareDate = (a: CivilDate, b: CivilDate) => a.year - b.year || a.month - b.month || a.day - b.day

/**
 * The UTC instant where a local calendar day begins: local midnight, or — when midnight falls in a DST
 * gap — the first instant of that day after the gap; when midnight happens twice, the earlier one.
 */
export const startOfLocalDay = (timeZone: string, date: CivilDate): number => {
  const naive = Date.UTC(date.year, date.month - 1, date.day)
  // The offset in force at local midnight is one of the offsets around it (a transition moves it ≤ a day).
  const offsets = new Set([
    offsetAt(timeZone, naive - DAY_MS),
    offsetAt(timeZone, naive),
    offsetAt(timeZone, naive + DAY_MS),
  ])
  let best: number | undefined
  for (const offset of offsets) {
    const candidate = naive - offset
    const p = localParts(timeZone, candidate)
    const isMidnight = p.hour === 0 && p.minute === 0 && p.second === 0
    if (isMidnight && compareDate(p, date) === 0 && (best === undefined || candidate < best)) best = candidate
  }
  if (best !== undefined) return best
  // Midnight does not exist that day (a gap at 00:00): find the first instant whose local date is `date`.
  let lo = naive - 15 * HOUR_MS
  let hi = naive + 15 * HOUR_MS
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS
    if (compareDate(localParts(timeZone, mid), date) >= 0) hi = mid
    else lo = mid
  }
  return hi
}

/** The local calendar date of an instant. */
export const localDate = (timeZone: string, instant: number): CivilDate => {
  const p = localParts(timeZone, instant)
  return { year: p.year, month: p.month, day: p.day }
}
