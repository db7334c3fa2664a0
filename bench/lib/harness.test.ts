import { describe, expect, it } from 'bun:test'
import { type ComparisonResult, reachOf, serialRates } from './harness.ts'

const resultOf = (rates: Record<string, number[]>): ComparisonResult => ({
  title: 't',
  unit: 'events/s',
  rounds: 2,
  results: Object.entries(rates).map(([name, r]) => ({
    name,
    rates: r,
    median: r[0]!,
    min: Math.min(...r),
    max: Math.max(...r),
    extra: {},
  })),
})

describe('serialRates', () => {
  it('is the rate of doing the parts one after the other, round by round', () => {
    // 100/s and 100/s in series: 10 ms + 10 ms per op, 50/s; 300/s and 150/s: 1 ÷ (1/300 + 1/150) = 100/s.
    const result = resultOf({ a: [100, 300], b: [100, 150] })
    expect(serialRates(result, ['a', 'b'])).toEqual([50, 100])
  })

  it('names the missing part', () => {
    expect(() => serialRates(resultOf({ a: [1, 1] }), ['a', 'nope'])).toThrow('no contender named "nope"')
  })
})

describe('reachOf', () => {
  const result = resultOf({ raw: [100, 100], consumer: [45, 55], ceiling: [48, 70] })
  const reach = (limit: number) =>
    reachOf(result, {
      ceilingName: 'The ceiling',
      ceiling: 'ceiling',
      contender: 'consumer',
      baseline: 'raw',
      limit,
    })

  it('says in how many rounds the ceiling itself met the target, and how much of it the candidate reached', () => {
    const text = reach(0.5)
    expect(text).toContain('The ceiling ran at 0.48×–0.70× (median 0.59×) of `raw` per round')
    expect(text).toContain('it met the target in 1 of 2 rounds')
    // 45 ÷ 48 and 55 ÷ 70.
    expect(text).toContain('the candidate ran at 79%–94% (median 86%) of that ceiling')
  })

  it('tells every round apart: all within, none within', () => {
    expect(reach(0.4)).toContain('it met the target in every round')
    expect(reach(0.75)).toContain('it missed the target in every round')
  })

  it('takes a ceiling given as rates per round', () => {
    const text = reachOf(result, {
      ceilingName: 'In series',
      // 1 ÷ (1/100 + 1/48) ≈ 32.4 and 1 ÷ (1/100 + 1/70) ≈ 41.2.
      ceiling: serialRates(result, ['raw', 'ceiling']),
      contender: 'consumer',
      baseline: 'raw',
      limit: 0.35,
    })
    expect(text).toContain('In series ran at 0.32×–0.41×')
    expect(text).toContain('met the target in 1 of 2 rounds')
  })
})
