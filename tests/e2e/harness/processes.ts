/** Starting and stopping real processes for the flows: free ports, log files, readiness, SIGTERM then SIGKILL. */
import { existsSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import type { Subprocess } from 'bun'

/** Repository root. */
export const ROOT = join(import.meta.dir, '..', '..', '..')

/** A port free right now (the OS picks it; a tiny race with other processes is accepted). */
export const freePort = (): number => {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

// Children still running when the test process exits (a crash, a timeout) are killed, never left behind.
const children = new Set<Subprocess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

export interface RunningProcess {
  readonly name: string
  readonly url: string
  readonly logFile: string
  readonly proc: Subprocess
  /** The last lines of the process log, for failure messages. */
  tail(lines?: number): Promise<string>
}

export interface StartOptions {
  readonly name: string
  /** Entry point relative to the repository root. */
  readonly entry: string
  readonly env: Record<string, string>
  readonly port: number
  readonly logDir: string
  /** Path answering 200 once ready. @defaultValue '/ready' */
  readonly readyPath?: string
  /** @defaultValue 45_000 */
  readonly readyTimeoutMs?: number
}

/**
 * Spawns `bun --no-env-file <entry>` with `env` on top of what `testProcessEnv` passes through (PATH, HOME, the
 * infrastructure variables) and waits until `readyPath` answers 200.
 */
export const startProcess = async (options: StartOptions): Promise<RunningProcess> => {
  const logFile = join(options.logDir, `${options.name}.log`)
  const fd = openSync(logFile, 'a')
  const proc = Bun.spawn(bunCommand(join(ROOT, options.entry)), {
    cwd: ROOT,
    env: testProcessEnv(options.env),
    stdout: fd,
    stderr: fd,
  })
  children.add(proc)
  proc.exited.then(() => children.delete(proc))
  const url = `http://127.0.0.1:${options.port}`
  const running: RunningProcess = {
    name: options.name,
    url,
    logFile,
    proc,
    async tail(lines = 40) {
      const text = existsSync(logFile) ? await Bun.file(logFile).text() : ''
      return text.split('\n').slice(-lines).join('\n')
    },
  }
  if (options.readyPath === '') return running
  const deadline = Date.now() + (options.readyTimeoutMs ?? 45_000)
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(
        `${options.name} exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${await running.tail()}`,
      )
    }
    try {
      const res = await fetch(`${url}${options.readyPath ?? '/ready'}`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return running
      last = `${res.status} ${(await res.text()).slice(0, 300)}`
    } catch (error) {
      last = (error as Error).message
    }
    await Bun.sleep(200)
  }
  await stopProcess(running)
  throw new Error(`${options.name} not ready at ${url} (${last}):\n${await running.tail()}`)
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. Safe to call twice. */
export const stopProcess = async (running: RunningProcess, graceMs = 8000): Promise<void> => {
  const { proc } = running
  if (proc.exitCode !== null || proc.signalCode !== null) return
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  await proc.exited
  clearTimeout(timer)
}

/** SIGKILL: no shutdown hooks, no last commit (a crash). */
export const killProcess = async (running: RunningProcess): Promise<void> => {
  running.proc.kill('SIGKILL')
  await running.proc.exited
}
