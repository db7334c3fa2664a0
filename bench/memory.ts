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

const MEMORY_NOTES = `**What holds the idle memory** (2026-12-04, Bun 1.4.5, load average 0.4–9; RSS does not move with load the
way throughput does). Resident size of a fresh \`bun -e "import '<module>'"\` after a full GC, median of 3: Bun itself
25.2 MiB; elysia 37.6; the whole kit 64.4 before and 62.8 after this change. Everything an idle service needs from the
kit's dependencies together (elysia, ioredis, pino, prom-client, jose, contracts, streams, @opentelemetry/api) is 58.2;
on top of that the OpenTelemetry SDK (@flotilla/telemetry) adds 3.0, the OpenAPI plugin 1.8, postgres.js 0.5,
cockatiel 0.3, the kit's own modules ~1.7; for the apps' stores, drizzle 4.5 and @libsql/client 5.5. Inside the 58.2
one package alone costs little because they share Bun's \`node:\` modules (crypto, net, tls, stream, http, zlib: 1–4
MiB each on top of elysia): leaving one out saves prom-client 2.6, elysia 1.8, pino 1.1, the others ~0. \`bun:jsc\`
heapStats counts only 6.5 MiB of JavaScript heap (61k objects) for the whole kit: the rest is loaded code and the
runtime. The change: the kit takes prom-client's registry and metric classes from the files that define them, not its
index (which also loads the cluster aggregator and the Pushgateway: \`node:cluster\`, \`node:http\`), −1.6 MiB in every
app. Boot of auth in process (after a full GC at each step): kit imported 68 MiB, auth's own modules +1, starting it
+7.5 (each ioredis connection ~0.85: request, producer, revocation subscriber, the consumer's; the registry with
default metrics 1.0; the Elysia app 0.6); the first \`/swagger/json\` +2.8, only when asked. Notifications: its modules
+11 over the kit (libSQL and drizzle, then resend, svix, web-push, liquidjs ~1–2 each), starting it +21; audit +7 and
+9; analytics +9 and +9: their stores, not the kit, put them past 2×. Not done: loading the OpenTelemetry SDK only
when exporting (3.0 MiB) — spans get ids without an exporter so that logs and \`traceparent\` carry trace ids, and a
process without an endpoint would lose them; the OpenAPI plugin on the first \`/swagger\` request (1.8) — it registers
its routes when the app is built. The hello's own RSS moved 37.8–40.6 MiB between two runs minutes apart, so a ratio
near 2× can fall either side of the line from one run to the next. Two runs after the change (load 0.8–2.9): hello 38.3 MiB; auth
75.8 and 75.7 (1.98×), notifications 2.70×, audit 2.25–2.26×, analytics 2.27–2.29×; one just before it (load 0.4):
auth 2.03×, notifications 2.76×, audit 2.32×, analytics 2.34×. The peak while draining stays at 1.5–1.8× of idle.`

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
