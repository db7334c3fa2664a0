/**
 * Cold start: each app compiled as its image ships it (`docker/package-app.ts`: `bun build --compile` plus
 * the libSQL addon) from spawn to its first 200 on /ready (stores open, consumer joined), against a
 * compiled Bun.serve hello from spawn to its first 200. Rounds interleave the five binaries.
 */
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileBinary, packageApp } from '../docker/package-app.ts'
import { isolatedEnv } from '../tests/deploy/lib/isolation.ts'
import { freePort } from '../tests/deploy/lib/nginx.ts'
import { APPS, createAppsRun, waitReady } from './lib/apps.ts'
import { type BenchOptions, type BenchReport, compare, type Measurement } from './lib/harness.ts'
import { REDIS_URL } from './lib/redis.ts'

const HELLO = 'Bun.serve hello (compiled)'

const compileHello = (out: string): string => {
  mkdirSync(out, { recursive: true })
  return compileBinary(join(import.meta.dir, 'servers', 'hello-port.ts'), join(out, 'server'))
}

/** Spawns a binary and times it to its first 200 on `path`; then stops it. */
const coldStart = async (binary: string, env: Record<string, string>, path: string): Promise<Measurement> => {
  const port = freePort()
  const start = performance.now()
  const proc = Bun.spawn([binary], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'development',
      REDIS_URL,
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
    },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  try {
    await waitReady(`http://127.0.0.1:${port}`, 60_000, path)
    return { ops: 1, seconds: (performance.now() - start) / 1000 }
  } finally {
    proc.kill('SIGTERM')
    await Promise.race([proc.exited, Bun.sleep(10_000)])
    if (proc.exitCode === null) proc.kill('SIGKILL')
  }
}

/** The markdown section for docs/benchmarks.md (no target: startup times to read beside the hello's). */
export const report = async (_options: BenchOptions = {}): Promise<BenchReport> => {
  const { run, dir: work, cleanup } = createAppsRun('cold')
  try {
    const hello = compileHello(join(work, 'hello'))
    const contenders = [{ name: HELLO, run: () => coldStart(hello, {}, '/ready') }]
    for (const app of APPS) {
      const out = join(work, app.name)
      const binary = await packageApp(app.name, out)
      const dataDir = join(work, `${app.name}-data`)
      mkdirSync(dataDir, { recursive: true })
      const env = { ...isolatedEnv(run), NODE_PATH: join(out, 'node_modules'), DATA_DIR: dataDir }
      contenders.push({
        name: `${app.name} (compiled) → /ready`,
        run: () => coldStart(binary, env, '/ready'),
      })
    }
    const result = await compare({ title: 'cold start', unit: 'starts/s', contenders })
    const base = result.results.find((r) => r.name === HELLO)
    const ms = (rate: number) => (1000 / rate).toFixed(0)
    const markdown = [
      '### cold start',
      '',
      `${result.rounds} interleaved rounds after a warm-up; from spawn to the first 200 on \`/ready\` (polled every 10 ms), median (min–max) milliseconds; ratio = median ÷ the hello's median. Apps run with development settings, their own data dir (libSQL files created on the first start, reopened later) and isolated Redis keys.`,
      '',
      '| binary | median ms | min–max ms | ratio to hello |',
      '| --- | --- | --- | --- |',
      ...result.results.map(
        (r) =>
          `| ${r.name} | ${ms(r.median)} | ${ms(r.max)}–${ms(r.min)} | ${base ? (base.median / r.median).toFixed(1) : '—'}× |`,
      ),
    ].join('\n')
    return { markdown, checks: [] }
  } finally {
    await cleanup()
  }
}

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
