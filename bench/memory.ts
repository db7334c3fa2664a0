/**
 * Memory: the RSS of each app idle (after /ready) against a Bun + Elysia hello started the same way, and its
 * peak while its consumer group drains a burst of prefilled events (all four apps on one stream, as deployed)
 * against its own idle RSS; and Redis bytes per stream entry.
 */
import { join } from 'node:path'
import type Redis from 'ioredis'
import { APPS, createAppsRun, mib, type RunningApp, rssOf, runApp, waitReady } from './lib/apps.ts'
import { benchStream } from './lib/fixtures.ts'
import { type BenchOptions, type BenchReport, type TargetCheck, verdict } from './lib/harness.ts'
import { prefill } from './lib/prefill.ts'
import { startServer } from './lib/servers.ts'

const IDLE_LIMIT = 2
const PEAK_LIMIT = 2

const usedMemory = async (redis: Redis) =>
  Number(((await redis.info('memory')) as string).match(/used_memory:(\d+)/)?.[1] ?? Number.NaN)

/** Redis bytes per ~200-byte bench entry: MEMORY USAGE of the stream, and the INFO used_memory delta. */
const bytesPerEntry = async (redis: Redis, entries: number) => {
  const stream = benchStream('memory')
  try {
    const before = await usedMemory(redis)
    await prefill(redis, stream, entries, 'memory prefill')
    const after = await usedMemory(redis)
    const usage = Number(await redis.call('MEMORY', 'USAGE', stream, 'SAMPLES', '0'))
    return { usage: usage / entries, delta: (after - before) / entries }
  } finally {
    await redis.del(stream)
  }
}

const MEMORY_NOTES = `**What holds the idle memory** (2026-12-04, load average 6–27 on the shared 2-core machine; RSS does not
move with load the way throughput does). Resident size of a fresh \`bun -e "import '<module>'"\` after a full GC: Bun
itself 23.7 MiB; elysia 37.0; ioredis 41.0; prom-client 39.7; @flotilla/contracts 44.2; @flotilla/telemetry 49.0
(44.6 since the OTLP exporter loads with its first batch); @flotilla/streams 50.3; the kit's own dependencies that
every service needs together (elysia, ioredis, pino, prom-client, jose, telemetry, contracts, streams) 60.8; the
whole kit 68.1 before and 64.2 after this change (drizzle's sqlite-core, 3.3 MiB, now loads only when \`ops db
copy\` runs). Of the kit's 64 MiB, \`bun:jsc\` heapStats counts only 7.1 MiB of JavaScript heap (67k objects): the
rest is loaded code (parsed source, bytecode, JIT) and the runtime, so batch sizes and buffers are not where idle
memory goes, and \`bun --smol\` saves 1.3 MiB. Two times a hello (~78–80 MiB here) leaves each app ~15 MiB for its
own code and connections on top of the kit: auth (Redis only) sits at the line (80.3 MiB, 2.01× in a full run;
2.06× in a quick run read 1 s after /ready); notifications (~103 MiB), audit (~99) and analytics (~90) also load
their stores (libSQL's native client, drizzle, PostgreSQL driver), templates and HTTP clients. The peak while
draining stays at 1.5–1.8× of idle (50,000 events: auth 1.63×, notifications 1.52×, audit 1.73×, analytics 1.83×).
Left alone: each app's own modules (outside the kit); the remaining kit modules are each under 2 MiB (OpenAPI
plugin 1.6, postgres.js 0.6, cockatiel 0.2).`

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

/** The markdown section for docs/benchmarks.md, and per app its idle and peak RSS targets (one run, one value each). */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const BURST = Number(process.env.BENCH_MEMORY_EVENTS ?? (quick ? 10_000 : 50_000))
  const ENTRIES = quick ? 2_000 : 100_000
  const IDLE_WAIT_MS = quick ? 1000 : 2000
  const { redis, run, dir, cleanup } = createAppsRun('memory')
  const running: [string, RunningApp][] = []
  const hello = await startServer<{ pid: number }>(join(import.meta.dir, 'servers', 'elysia-hello.ts'))
  const lines = ['### memory', '']
  try {
    const perEntry = await bytesPerEntry(redis, ENTRIES)
    // Started together: the four boots overlap (each waits on its own /ready below).
    running.push(
      ...(await Promise.all(
        APPS.map(
          async (app): Promise<[string, RunningApp]> => [
            app.name,
            await runApp(app, { run, dataDir: join(dir, app.name), timeoutMs: 60_000 }),
          ],
        ),
      )),
    )
    await Promise.all(running.map(([, r]) => waitReady(r.url)))
    await Bun.sleep(IDLE_WAIT_MS)
    const helloRss = rssOf(hello.info.pid)
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
    const rss = (map: Map<string, number>, name: string) => map.get(name) ?? Number.NaN
    const checks: TargetCheck[] = running.flatMap(([name]) => [
      {
        name: `${name} idle RSS ÷ Elysia hello RSS`,
        limit: IDLE_LIMIT,
        higherIsBetter: false,
        values: [rss(idle, name) / helloRss],
      },
      {
        name: `${name} peak RSS while draining ÷ its idle RSS`,
        limit: PEAK_LIMIT,
        higherIsBetter: false,
        values: [rss(peak, name) / rss(idle, name)],
      },
    ])
    lines.push(
      `RSS of each app started from source (\`bun apps/<app>/src/main.ts\`, development settings, its own data dir), all four on one stream: idle ${IDLE_WAIT_MS / 1000} s after /ready; peak while their groups drain ${BURST.toLocaleString('en-US')} prefilled ~200-byte events (${complete ? `drained in ${seconds.toFixed(1)} s, prefill included` : 'NOT fully drained within 5 min'}); and right after. The baseline is an Elysia JSON hello (\`bun bench/servers/elysia-hello.ts\`), started the same way and read at the same moment: ${mib(helloRss)} MiB. Targets: idle ≤ ${IDLE_LIMIT}× the hello, peak ≤ ${PEAK_LIMIT}× the app's own idle RSS (one run, one value each).`,
      '',
      '| app | idle RSS MiB | ÷ hello | peak RSS MiB while draining | peak ÷ idle | RSS MiB after |',
      '| --- | --- | --- | --- | --- | --- |',
      ...running.map(
        ([name]) =>
          `| ${name} | ${mib(rss(idle, name))} | ${(rss(idle, name) / helloRss).toFixed(2)}× | ${mib(rss(peak, name))} | ${(rss(peak, name) / rss(idle, name)).toFixed(2)}× | ${mib(rss(after, name))} |`,
      ),
      '',
      ...checks.map(verdict),
      '',
      `Redis bytes per stream entry (${ENTRIES.toLocaleString('en-US')} bench entries of ~200 bytes of JSON plus the \`type\` field): MEMORY USAGE (exact, SAMPLES 0) ${perEntry.usage.toFixed(0)} B/entry; INFO used_memory delta ${perEntry.delta.toFixed(0)} B/entry.`,
    )
    lines.push('', MEMORY_NOTES)
    return { markdown: lines.join('\n'), checks }
  } finally {
    await hello.stop()
    for (const [, r] of running) {
      r.proc.kill('SIGTERM')
      await Promise.race([r.proc.exited, Bun.sleep(10_000)])
      if (r.proc.exitCode === null) r.proc.kill('SIGKILL')
    }
    await cleanup()
  }
}

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
