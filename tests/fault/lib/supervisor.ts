/** Fixture consumer processes: spawn, wait until ready, signal, restart, and always clean up. */
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import type { Subprocess } from 'bun'
import type { FixtureConfig } from './ledger.ts'

const FIXTURE = join(import.meta.dir, 'fixture-consumer.ts')

export interface Child {
  readonly proc: Subprocess<'ignore', 'pipe', 'inherit'>
  /** The consumer name, once the child reported ready. */
  readonly name: Promise<string>
  readonly exited: Promise<number>
}

/** Reads the child's stdout lines; resolves `name` on the ready line. */
const spawnChild = (config: FixtureConfig): Child => {
  const proc = Bun.spawn(bunCommand(FIXTURE), {
    env: testProcessEnv({ FAULT_CONSUMER: JSON.stringify(config) }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const name = (async () => {
    const decoder = new TextDecoder()
    let text = ''
    const reader = proc.stdout.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`consumer ${proc.pid} exited before it was ready`)
      text += decoder.decode(value, { stream: true })
      const line = text.split('\n').find((l) => l.includes('"ready":true'))
      if (line) {
        // Keep draining so the child never blocks on a full pipe.
        void (async () => {
          for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return
        })()
        return (JSON.parse(line) as { name: string }).name
      }
    }
  })()
  name.catch(() => {})
  return { proc, name, exited: proc.exited }
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ])

/** A set of fixture consumers sharing one configuration. */
export const createSupervisor = (config: FixtureConfig) => {
  const all: Child[] = []
  const live: Child[] = []

  const spawn = async (overrides: Partial<FixtureConfig> = {}): Promise<Child> => {
    const child = spawnChild({ ...config, ...overrides })
    all.push(child)
    live.push(child)
    void child.exited.then(() => {
      const i = live.indexOf(child)
      if (i >= 0) live.splice(i, 1)
    })
    await withTimeout(child.name, 20_000, 'a consumer process to start')
    return child
  }

  return {
    spawn,
    live: () => [...live],
    /** Every child started so far, dead or alive. */
    all: () => [...all],
    /** Sends a signal and, for SIGKILL, waits for the exit. */
    async signal(child: Child, signal: NodeJS.Signals) {
      child.proc.kill(signal)
      if (signal === 'SIGKILL') await child.exited
    },
    /** SIGKILLs every child still running (SIGCONT first, so stopped ones die too). */
    async stopAll() {
      for (const child of all) {
        if (child.proc.exitCode !== null || child.proc.signalCode !== null) continue
        child.proc.kill('SIGCONT')
        child.proc.kill('SIGKILL')
      }
      await Promise.all(all.map((c) => c.exited))
    },
  }
}

export type Supervisor = ReturnType<typeof createSupervisor>
