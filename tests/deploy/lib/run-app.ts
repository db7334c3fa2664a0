/** Starts one app (from source or a compiled binary) the way a deploy test needs it: isolated, on a free port. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import type { AppInfo } from '../../../scripts/lib/apps.ts'
import { mainOf } from '../../../scripts/lib/apps.ts'
import { isolatedEnv } from './isolation.ts'
import { freePort } from './nginx.ts'

export interface RunningApp {
  readonly url: string
  readonly port: number
  readonly proc: ReturnType<typeof Bun.spawn>
  /** Everything the app printed so far (for failure messages). */
  output(): Promise<string>
}

export interface RunAppOptions {
  /** Unique run name: the stream, and the prefix of every Redis key the app writes. */
  readonly run: string
  readonly dataDir: string
  /** Command to run; defaults to `bun --no-env-file apps/<app>/src/main.ts`. */
  readonly command?: string[]
  readonly cwd?: string
  readonly env?: Record<string, string>
  /** @defaultValue 20000 */
  readonly timeoutMs?: number
}

/** Spawns the app and waits for `GET <healthPath>` to answer 200; throws with its output otherwise. */
export const runApp = async (
  app: AppInfo,
  options: RunAppOptions,
  healthPath = '/health',
): Promise<RunningApp> => {
  const port = freePort()
  // The image ships /data as an existing, writable volume; some apps expect DATA_DIR to exist.
  mkdirSync(options.dataDir, { recursive: true })
  const proc = Bun.spawn(options.command ?? bunCommand(mainOf(app)), {
    cwd: options.cwd ?? join(import.meta.dir, '..', '..', '..'),
    // Only what a deploy test sets, never the caller's settings (a development shell must not reach a production boot).
    env: testProcessEnv({
      NODE_ENV: 'development',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'warn',
      ...isolatedEnv(options.run),
      ...options.env,
      PORT: String(port),
      DATA_DIR: options.dataDir,
    }),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const printed = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(
    (parts) => parts.join('\n'),
  )
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let last = 0
  while (Date.now() < deadline && proc.exitCode === null) {
    last = await fetch(`${url}${healthPath}`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status)
      .catch(() => 0)
    if (last === 200) return { url, port, proc, output: () => printed }
    await Bun.sleep(100)
  }
  proc.kill('SIGKILL')
  throw new Error(
    `${app.name}: no 200 from ${healthPath} (last ${last}, exit ${proc.exitCode}):\n${await printed}`,
  )
}
