/** Child processes with prefixed, coloured log lines, and a graceful stop (signal, wait, then kill). */
import { bold, dim, paint, red, yellow } from './term.ts'

export interface Child {
  readonly name: string
  readonly proc: ReturnType<typeof Bun.spawn>
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number>
}

const LEVELS: Record<number, [string, number]> = {
  10: ['TRACE', 2],
  20: ['DEBUG', 2],
  30: ['INFO ', 32],
  40: ['WARN ', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 31],
}
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'v'])

/** Renders a pino JSON line as `12:00:01 INFO message key=value …`; other lines pass through. */
export const prettyLogLine = (line: string): string => {
  if (!line.startsWith('{')) return line
  try {
    const entry = JSON.parse(line) as Record<string, unknown>
    const [label, colour] = LEVELS[Number(entry.level)] ?? [String(entry.level ?? '').toUpperCase(), 0]
    const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : ''
    const extras = Object.entries(entry)
      .filter(([key]) => !HIDDEN.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ')
    return `${dim(time)} ${paint(colour, label)} ${entry.msg ?? ''}${extras ? ` ${dim(extras)}` : ''}`
  } catch {
    return line
  }
}

/** Spawns `cmd`, prefixing every output line with the coloured name. */
export const spawnPrefixed = (
  name: string,
  colour: number,
  cmd: string[],
  options: { cwd: string; env: Record<string, string | undefined>; raw?: boolean; width?: number },
): Child => {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: options.env,
    stdout: 'pipe',
    stderr: 'pipe',
    detached: true,
  })
  const prefix = paint(colour, `${name.padEnd(options.width ?? name.length)} │`)
  const pump = async (stream: ReadableStream<Uint8Array>, write: (line: string) => void) => {
    const decoder = new TextDecoder()
    let buffered = ''
    const reader = stream.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffered += decoder.decode(value, { stream: true })
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines)
        if (line.trim()) write(`${prefix} ${options.raw ? line : prettyLogLine(line)}`)
    }
    if (buffered.trim()) write(`${prefix} ${buffered}`)
  }
  const pumps = Promise.all([
    pump(proc.stdout, (line) => console.log(line)),
    pump(proc.stderr, (line) => console.error(line)),
  ])
  const exited = pumps.then(() => proc.exited)
  return { name, proc, exited }
}

/**
 * Stops children: `signal` to each, waits up to `graceMs` for all, then SIGKILL for the rest.
 * Resolves once every child is gone.
 */
export const stopAll = async (
  children: readonly Child[],
  graceMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
) => {
  const running = children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null)
  if (running.length === 0) return
  console.log(dim(`stopping ${running.map((c) => c.name).join(', ')} (${signal}, ${graceMs / 1000}s grace)…`))
  for (const child of running) child.proc.kill(signal)
  const deadline = Bun.sleep(graceMs).then(() => 'timeout' as const)
  await Promise.all(
    running.map(async (child) => {
      const result = await Promise.race([child.exited, deadline])
      if (result === 'timeout') {
        console.log(yellow(`${child.name} did not stop within ${graceMs / 1000}s: killing it`))
        child.proc.kill('SIGKILL')
        await child.exited
      } else {
        const how = result === 0 ? 'stopped' : red(`exited with ${result}`)
        console.log(`${bold(child.name)} ${how}`)
      }
    }),
  )
}
