/**
 * Quiet hours: a recipient's local window (`22:00` → `07:30`, may wrap past midnight, to the second) during
 * which non-critical messages wait. `heldUntil` says when the window around a time ends, in the recipient's
 * time zone (IANA name, through `Intl`).
 */

/** `HH:MM` or `HH:MM:SS`, 24-hour. */
export const LOCAL_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$'

const DAY_SECONDS = 24 * 3600

const secondsOf = (time: string): number => {
  const [h = 0, m = 0, s = 0] = time.split(':').map(Number)
  return h * 3600 + m * 60 + s
}

/** Whether `zone` is a time zone `Intl` knows. */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const formats = new Map<string, Intl.DateTimeFormat>()
const formatOf = (zone: string): Intl.DateTimeFormat => {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formats.set(zone, format)
  }
  return format
}

/** `at` as a local time HH:MM:SS in `zone` (the form quiet hours are written in). */
export const localTimeOf = (at: number, zone: string): string => formatOf(zone).format(at)

/** Seconds since local midnight in `zone` at `at`. */
const localSecondsOf = (at: number, zone: string): number => {
  const parts = formatOf(zone).formatToParts(at)
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return part('hour') * 3600 + part('minute') * 60 + part('second')
}

export interface QuietHours {
  readonly timezone: string
  readonly start: string
  readonly end: string
}

/**
 * When the quiet window around `at` ends (ms since the epoch), or undefined when `at` is outside it. A
 * daylight-saving change inside the window moves its end by that hour.
 */
export const heldUntil = (at: number, quiet: QuietHours): number | undefined => {
  const start = secondsOf(quiet.start)
  const end = secondsOf(quiet.end)
  if (start === end) return undefined
  const now = localSecondsOf(at, quiet.timezone)
  const inside = start < end ? now >= start && now < end : now >= start || now < end
  if (!inside) return undefined
  const remaining = (end - now + DAY_SECONDS) % DAY_SECONDS
  return at - (at % 1000) + remaining * 1000
}
