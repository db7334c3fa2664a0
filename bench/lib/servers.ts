/** Benchmark servers as child processes: each prints one JSON line (with its `port`) once listening. */
import { readFileSync } from 'node:fs'
import type { Subprocess } from 'bun'

// USER_HZ: 100 on every Linux build that matters (`getconf CLK_TCK`); /proc reports CPU time in these ticks.
const CLOCK_TICKS = 100

export interface ServerProcess<T> {
  readonly info: T & { port: number }
  readonly url: string
  /** The child's process id (for reading its CPU time). */
  readonly pid: number
  stop(): Promise<void>
}

/** Spawns `bun <script>` (or a command, e.g. a compiled binary) and waits for its first stdout line. */
export const startServer = async <T extends object = object>(
  script: string | readonly string[],
  env: Record<string, string> = {},
): Promise<ServerProcess<T>> => {
  const command = typeof script === 'string' ? ['bun', script] : [...script]
  const proc: Subprocess<'ignore', 'pipe', 'inherit'> = Bun.spawn(command, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, ...env },
  })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${command.join(' ')} exited before it was ready (code ${await proc.exited})`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const info = JSON.parse(text.slice(0, text.indexOf('\n'))) as T & { port: number }
  return {
    info,
    url: `http://127.0.0.1:${info.port}`,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}

/**
 * A process's CPU time so far (user + system, all threads) in µs, from /proc (Linux); NaN elsewhere.
 * Resolution is the kernel's clock tick (10 ms at the usual 100 Hz): fine over rounds of seconds.
 */
export const processCpuMicros = (pid: number): number => {
  try {
    // Fields after the command name (which may hold spaces); utime and stime are the 12th and 13th of them.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}
