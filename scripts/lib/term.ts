/** Terminal output for the run/ops scripts: colours (off for pipes and NO_COLOR), tables, durations. */

// hasColors() exists only on a terminal and honours NO_COLOR (and FORCE_COLOR, TERM=dumb) by itself.
const colourOn = process.stdout.hasColors?.() === true

/** Wraps text in an ANSI colour (30–37 foreground, 1 bold, 2 dim) when stdout is a colour terminal. */
export const paint = (code: number, text: string): string => (colourOn ? `\x1b[${code}m${text}\x1b[0m` : text)
export const bold = (text: string) => paint(1, text)
export const dim = (text: string) => paint(2, text)
export const red = (text: string) => paint(31, text)
export const green = (text: string) => paint(32, text)
export const yellow = (text: string) => paint(33, text)

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g
const visibleLength = (text: string) => text.replace(ANSI, '').length

/**
 * Renders rows as an aligned table with a header rule. Numeric columns are right-aligned.
 * @example table(['group', 'lag'], [['audit', 3]])
 */
export const table = (
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string => {
  const cells = rows.map((row) => row.map((cell) => String(cell)))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => visibleLength(row[i] ?? ''))))
  // A column is right-aligned when every cell reads as a number (coloured or not; `?` for unknown).
  const numeric = headers.map(
    (_, i) =>
      cells.length > 0 && cells.every((row) => /^(-?\d+(\.\d+)?|\?)$/.test((row[i] ?? '').replace(ANSI, ''))),
  )
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - visibleLength(cell)))
        return numeric[i] ? pad + cell : cell + pad
      })
      .join('  ')
      .trimEnd()
  return [bold(line(headers)), dim(widths.map((w) => '─'.repeat(w)).join('  ')), ...cells.map(line)].join(
    '\n',
  )
}

/** Parses `30s`, `15m`, `12h`, `7d` (or plain milliseconds) into milliseconds; undefined when malformed. */
export const parseDuration = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) return undefined
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1
  return Number(match[1]) * unit
}

/** `1234567` ms → `20m 34s`; short and human. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

/** A one-line progress bar: `[██████░░░░] 60% 600/1000`. */
export const progressBar = (done: number, total: number, width = 30): string => {
  const ratio = total === 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${done}/${total}`
}

/**
 * Asks a yes/no question on stdin; only `y`/`yes` is yes. End of input (a pipe with nothing left) is no, so
 * a script never confirms by accident.
 */
export const confirm = async (question: string): Promise<boolean> => {
  process.stdout.write(`${question} [y/N] `)
  const reader = Bun.stdin.stream().getReader()
  let text = ''
  try {
    while (!text.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
  } finally {
    reader.releaseLock()
  }
  const answer = text.trim().toLowerCase()
  if (!process.stdin.isTTY) process.stdout.write(`${answer}\n`)
  return answer === 'y' || answer === 'yes'
}
