/**
 * One replica against three: for each of audit, analytics and notifications, a 1-process and a 3-process cluster
 * of the app (real processes under the kit's runner, the stores of tests/replicas/lib/stores.ts) stay up side by
 * side; each round appends a batch of fresh events to one cluster's stream and times it until the app's consumer
 * group has read and settled all of it (events/s drained to completion). Rounds alternate between the two clusters.
 * `bun run bench replicas` also writes the table into docs/scaling.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { createCustomEvent, createEvent, encodeEntry } from '@flotilla/contracts'
import Redis from 'ioredis'
import { type Cluster, startCluster } from '../tests/replicas/lib/cluster.ts'
import { groupSettled } from '../tests/replicas/lib/observe.ts'
import { type ReplicatedApp, STORES } from '../tests/replicas/lib/stores.ts'
import { type ComparisonResult, compare, type Measurement } from './lib/harness.ts'
import { REDIS_URL } from './lib/redis.ts'

/** Events per round: each app gets a round of a few seconds on one replica here. */
const EVENTS: Record<ReplicatedApp, number> = {
  audit: Number(process.env.BENCH_REPLICAS_AUDIT ?? 6_000),
  analytics: Number(process.env.BENCH_REPLICAS_ANALYTICS ?? 6_000),
  notifications: Number(process.env.BENCH_REPLICAS_NOTIFICATIONS ?? 1_500),
}
const APPS: readonly ReplicatedApp[] = ['audit', 'analytics', 'notifications']
const TENANTS = ['t-a', 't-b', 't-c', 't-d', 't-e', 't-f', 't-g', 't-h']
const DOC = join(import.meta.dir, '..', 'docs', 'scaling.md')
const BEGIN = '<!-- bench:replicas -->'
const END = '<!-- /bench:replicas -->'

let sequence = 0
/** What the app consumes: welcome emails for notifications, opaque events over eight tenant chains otherwise. */
const eventFor = (app: ReplicatedApp, i: number) => {
  const n = ++sequence
  const tenantId = TENANTS[i % TENANTS.length]!
  return app === 'notifications'
    ? createEvent(
        'user.registered',
        { userId: `u_${n}`, email: `bench${n}@replicas.test` },
        { source: 'monolith' },
      )
    : createCustomEvent(
        'order.placed',
        { orderId: `o_${n}`, amount: n % 1000 },
        { source: 'monolith', tenantId },
      )
}

/** One round: append `count` fresh events in pipelined chunks, then wait until the app's group settled them. */
const round = async (redis: Redis, cluster: Cluster, app: ReplicatedApp): Promise<Measurement> => {
  const count = EVENTS[app]
  const entries = Array.from({ length: count }, (_, i) => encodeEntry(eventFor(app, i)))
  const start = performance.now()
  for (let i = 0; i < count; i += 1000) {
    const pipeline = redis.pipeline()
    for (const entry of entries.slice(i, i + 1000)) pipeline.xadd(cluster.stream, '*', ...entry)
    await pipeline.exec()
  }
  const deadline = Date.now() + 600_000
  while (!(await groupSettled(redis, cluster.stream, app))) {
    if (Date.now() > deadline) throw new Error(`${app}: not drained within 10 minutes`)
    await Bun.sleep(20)
  }
  return { ops: count, seconds: (performance.now() - start) / 1000 }
}

const load1 = () => loadavg()[0]!.toFixed(1)

interface AppResult {
  readonly app: ReplicatedApp
  readonly result: ComparisonResult
  readonly loadBefore: string
  readonly loadAfter: string
}

const measure = async (redis: Redis, app: ReplicatedApp): Promise<AppResult> => {
  const one = await startCluster({ apps: [app], replicas: 1 })
  let three: Cluster | undefined
  try {
    three = await startCluster({ apps: [app], replicas: 3 })
    const clusters = { one, three }
    const loadBefore = load1()
    const result = await compare({
      title: `${app}: ${EVENTS[app].toLocaleString('en-US')} events per round, 1 vs 3 replicas`,
      unit: 'events/s',
      contenders: [
        { name: '1 replica', run: () => round(redis, clusters.one, app) },
        { name: '3 replicas', run: () => round(redis, clusters.three, app) },
      ],
    })
    return { app, result, loadBefore, loadAfter: load1() }
  } finally {
    await Promise.allSettled([one.stop(), three?.stop()])
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const table = (results: readonly AppResult[]): string => {
  const lines = [
    '| app | store | events per round | 1 replica, events/s median (min–max) | 3 replicas, events/s median (min–max) | ratio 3 ÷ 1 | load average (1 min) before → after |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const { app, result, loadBefore, loadAfter } of results) {
    const [one, three] = result.results
    if (!one || !three) continue
    lines.push(
      `| ${app} | ${STORES[app]} | ${EVENTS[app].toLocaleString('en-US')} | ${fmt(one.median)} (${fmt(one.min)}–${fmt(one.max)}) | ${fmt(three.median)} (${fmt(three.min)}–${fmt(three.max)}) | ${(three.median / one.median).toFixed(2)}× | ${loadBefore} → ${loadAfter} |`,
    )
  }
  return lines.join('\n')
}

/** Replaces the benchmark's block in docs/scaling.md (between its markers). */
const writeScalingDoc = (block: string) => {
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : ''
  const from = doc.indexOf(BEGIN)
  const to = doc.indexOf(END)
  if (from < 0 || to < from) throw new Error(`${DOC} has no ${BEGIN} … ${END} block`)
  writeFileSync(DOC, `${doc.slice(0, from + BEGIN.length)}\n${block}\n${doc.slice(to)}`)
}

/** The markdown section (docs/benchmarks.md); with `writeDoc`, the same table goes into docs/scaling.md. */
export const report = async ({ writeDoc = true }: { writeDoc?: boolean } = {}): Promise<string> => {
  const redis = new Redis(REDIS_URL)
  try {
    const results: AppResult[] = []
    for (const app of APPS) results.push(await measure(redis, app))
    const rounds = results[0]?.result.rounds ?? 0
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} by \`bun run bench replicas\` (\`bench/replicas.ts\`): ${rounds} interleaved rounds per side after a warm-up; each round appends fresh events to a running cluster's stream and times them until its consumer group has read and settled all of them. Both clusters of an app are up during its rounds; one is idle while the other works.`,
      '',
      table(results),
    ].join('\n')
    if (writeDoc) writeScalingDoc(body)
    return `### replicas: 1 vs 3 processes per app\n\n${body}\n\nWhat the ratio means: [scaling.md](scaling.md#one-replica-against-three).`
  } finally {
    redis.disconnect()
  }
}

if (import.meta.main) {
  console.log(await report({ writeDoc: false }))
  process.exit(0)
}
