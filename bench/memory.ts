/**
 * Memory: the RSS of each app idle (after /ready) and its peak while its consumer group drains a burst of
 * prefilled events (all four apps on one stream, as deployed); and Redis bytes per stream entry.
 */
import { join } from 'node:path'
import type Redis from 'ioredis'
import { APPS, createAppsRun, mib, type RunningApp, rssOf, runApp, waitReady } from './lib/apps.ts'
import { benchStream } from './lib/fixtures.ts'
import { prefill } from './lib/prefill.ts'

const BURST = Number(process.env.BENCH_MEMORY_EVENTS ?? 50_000)
const ENTRIES = 100_000

const usedMemory = async (redis: Redis) =>
  Number(((await redis.info('memory')) as string).match(/used_memory:(\d+)/)?.[1] ?? Number.NaN)

/** Redis bytes per ~200-byte bench entry: MEMORY USAGE of the stream, and the INFO used_memory delta. */
const bytesPerEntry = async (redis: Redis) => {
  const stream = benchStream('memory')
  try {
    const before = await usedMemory(redis)
    await prefill(redis, stream, ENTRIES, 'memory prefill')
    const after = await usedMemory(redis)
    const usage = Number(await redis.call('MEMORY', 'USAGE', stream, 'SAMPLES', '0'))
    return { usage: usage / ENTRIES, delta: (after - before) / ENTRIES }
  } finally {
    await redis.del(stream)
  }
}

/** Waits until every group on the stream has read everything and has nothing pending. */
const drained = async (redis: Redis, stream: string, groups: number, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const info = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][]
    const done = info.filter((g) => {
      const r: Record<string, unknown> = {}
      for (let i = 0; i + 1 < g.length; i += 2) r[String(g[i])] = g[i + 1]
      return Number(r.lag) === 0 && Number(r.pending) === 0
    })
    if (info.length >= groups && done.length === info.length) return true
    await Bun.sleep(200)
  }
  return false
}

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  const { redis, run, dir, cleanup } = createAppsRun('memory')
  const running: [string, RunningApp][] = []
  const lines = ['### memory', '']
  try {
    const perEntry = await bytesPerEntry(redis)
    for (const app of APPS) {
      const started = await runApp(app, { run, dataDir: join(dir, app.name), timeoutMs: 60_000 })
      running.push([app.name, started])
    }
    for (const [, r] of running) await waitReady(r.url)
    await Bun.sleep(2000)
    const idle = new Map(running.map(([name, r]) => [name, rssOf(r.proc.pid)]))
    const peak = new Map(idle)
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        for (const [name, r] of running) peak.set(name, Math.max(peak.get(name) ?? 0, rssOf(r.proc.pid)))
        await Bun.sleep(50)
      }
    })()
    const start = performance.now()
    await prefill(redis, run, BURST, 'memory burst')
    const complete = await drained(redis, run, running.length, 300_000)
    const seconds = (performance.now() - start) / 1000
    sampling = false
    await sampler
    const after = new Map(running.map(([name, r]) => [name, rssOf(r.proc.pid)]))
    lines.push(
      `RSS of each app started from source (\`bun apps/<app>/src/main.ts\`, development settings, its own data dir), all four on one stream: idle 2 s after /ready; peak while their groups drain ${BURST.toLocaleString('en-US')} prefilled ~200-byte events (${complete ? `drained in ${seconds.toFixed(1)} s, prefill included` : 'NOT fully drained within 5 min'}); and right after.`,
      '',
      '| app | idle RSS MiB | peak RSS MiB while draining | RSS MiB after |',
      '| --- | --- | --- | --- |',
      ...running.map(
        ([name]) =>
          `| ${name} | ${mib(idle.get(name) ?? Number.NaN)} | ${mib(peak.get(name) ?? Number.NaN)} | ${mib(after.get(name) ?? Number.NaN)} |`,
      ),
      '',
      `Redis bytes per stream entry (${ENTRIES.toLocaleString('en-US')} bench entries of ~200 bytes of JSON plus the \`type\` field): MEMORY USAGE (exact, SAMPLES 0) ${perEntry.usage.toFixed(0)} B/entry; INFO used_memory delta ${perEntry.delta.toFixed(0)} B/entry.`,
    )
    return lines.join('\n')
  } finally {
    for (const [, r] of running) {
      r.proc.kill('SIGTERM')
      await Promise.race([r.proc.exited, Bun.sleep(10_000)])
      if (r.proc.exitCode === null) r.proc.kill('SIGKILL')
    }
    await cleanup()
  }
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
