import { describe, expect, it } from 'bun:test'
import { prettyLogLine } from '../../scripts/lib/processes.ts'
import { formatDuration, parseDuration, progressBar, table } from '../../scripts/lib/term.ts'

// Colours are on when the test runs in a terminal; compare the visible text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '')

describe('terminal helpers of the run and ops scripts', () => {
  it('aligns tables, numbers to the right', () => {
    const rows: [string, number][] = [
      ['audit', 3],
      ['notifications', 120],
    ]
    expect(plain(table(['group', 'lag'], rows)).split('\n')).toEqual([
      'group          lag',
      '─────────────  ───',
      'audit            3',
      'notifications  120',
    ])
  })

  it('reads retention durations and refuses malformed ones', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(parseDuration('90m')).toBe(5_400_000)
    expect(parseDuration('250')).toBe(250)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('7 days')).toBeUndefined()
    expect(parseDuration('-1d')).toBeUndefined()
  })

  it('prints durations short', () => {
    expect(formatDuration(800)).toBe('800ms')
    expect(formatDuration(61_000)).toBe('1m 1s')
    expect(formatDuration(26 * 3_600_000)).toBe('1d 2h')
  })

  it('draws progress', () => {
    expect(progressBar(5, 10, 10)).toBe('[█████░░░░░]  50% 5/10')
    expect(progressBar(0, 0, 4)).toBe('[████] 100% 0/0')
  })

  it('renders pino lines as time, level, message and fields, and leaves other lines alone', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.parse('2026-01-01T10:11:12Z'),
      service: 'audit',
      msg: 'slow',
      group: 'audit',
      ms: 12,
    })
    expect(plain(prettyLogLine(line))).toBe('10:11:12 WARN  slow group=audit ms=12')
    expect(prettyLogLine('plain text')).toBe('plain text')
    expect(prettyLogLine('{not json')).toBe('{not json')
  })
})
