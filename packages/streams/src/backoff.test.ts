import { describe, expect, it } from 'bun:test'
import { backoffCeiling, retryDelayFor } from './backoff.ts'

const options = { baseMs: 100, maxMs: 1000 }

describe('backoff', () => {
  it('doubles the ceiling per delivery and caps it at maxMs', () => {
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffCeiling(n, options))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
  })

  it('draws a fully jittered delay below the ceiling, the same for the same entry and attempt', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `1732700000000-${i}`)
    const delays = ids.map((id) => retryDelayFor(id, 3, options))
    expect(delays.every((d) => d >= 0 && d < 400)).toBe(true)
    expect(ids.map((id) => retryDelayFor(id, 3, options))).toEqual(delays)
    // Spread over the whole range, not bunched: each quarter of [0, 400) gets a fair share.
    const quarters = [0, 0, 0, 0]
    for (const d of delays) quarters[Math.floor(d / 100)]! += 1
    expect(Math.min(...quarters)).toBeGreaterThan(75)
  })
})
