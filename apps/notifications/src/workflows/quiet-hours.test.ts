import { describe, expect, it } from 'bun:test'
import { heldUntil, isTimeZone } from './quiet-hours.ts'

const at = (iso: string) => Date.parse(iso)

describe('quiet hours', () => {
  it('holds a time inside the window until its end in the recipient’s zone, across midnight too', () => {
    const night = { timezone: 'Europe/Paris', start: '22:00', end: '07:30' }
    // 23:15 in Paris (UTC+1 in December) → 07:30 the next morning.
    expect(heldUntil(at('2026-12-03T22:15:00Z'), night)).toBe(at('2026-12-04T06:30:00Z'))
    // 05:00 in Paris → 07:30 the same morning.
    expect(heldUntil(at('2026-12-04T04:00:00Z'), night)).toBe(at('2026-12-04T06:30:00Z'))
    // 12:00 in Paris: not held.
    expect(heldUntil(at('2026-12-04T11:00:00Z'), night)).toBeUndefined()
    // The end itself is outside.
    expect(heldUntil(at('2026-12-04T06:30:00Z'), night)).toBeUndefined()
  })

  it('reads seconds, and the same local window lands elsewhere in UTC for another zone', () => {
    const tokyo = { timezone: 'Asia/Tokyo', start: '09:00:00', end: '09:00:30' }
    expect(heldUntil(at('2026-12-04T00:00:10.500Z'), tokyo)).toBe(at('2026-12-04T00:00:30Z'))
    expect(heldUntil(at('2026-12-04T00:00:31Z'), tokyo)).toBeUndefined()
  })

  it('knows real time zones and refuses made-up ones', () => {
    expect(isTimeZone('America/New_York')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })
})
