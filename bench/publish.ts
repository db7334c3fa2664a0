/**
 * Publish throughput, 100 in flight: the streams publisher against raw ioredis as a competent user writes it
 * (auto-pipelined, `JSON.stringify` per event at call time, the same two fields the publisher writes), the
 * previous baseline (pre-encoded, no auto-pipelining) and redis-benchmark.
 */
import { encodeEntry } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import Redis from 'ioredis'
import { benchEntry, benchEvent, benchStream, withInFlight } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  compare,
  type Measurement,
  medianOf,
  ratioTarget,
  reportOf,
  timed,
} from './lib/harness.ts'
import { REDIS_URL, redisPort } from './lib/redis.ts'
import { commandStats, serverMicros } from './lib/redis-stats.ts'

const IN_FLIGHT = 100
const RAW = 'raw ioredis XADD, auto-pipelined, JSON.stringify per event'
const OLD_RAW = 'raw ioredis XADD, pre-encoded, no auto-pipelining (previous baseline)'
const PUBLISH = 'publisher.publish'

/** redis-benchmark's own XADD rate (its C client, 100 connections), when the tool is installed. */
const redisBenchmark = async (stream: string, n: number): Promise<number | undefined> => {
  if (!Bun.which('redis-benchmark')) return undefined
  const [, , , json] = benchEntry(0)
  const proc = Bun.spawn(
    ['redis-benchmark', '-p', String(redisPort), '-q', '-n', String(n), '-c', String(IN_FLIGHT)].concat([
      'XADD',
      stream,
      '*',
      'type',
      'user.login.succeeded',
      'event',
      json,
    ]),
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const text = await new Response(proc.stdout).text()
  await proc.exited
  const match = text.match(/([\d.]+) requests per second/)
  return match ? Number(match[1]) : undefined
}

/** Adds Redis server time and this process's CPU time per event to a round. */
const withCosts = async (redis: Redis, round: () => Promise<Measurement>): Promise<Measurement> => {
  const before = await commandStats(redis)
  const cpu = process.cpuUsage()
  const m = await round()
  const used = process.cpuUsage(cpu)
  const after = await commandStats(redis)
  return {
    ...m,
    extra: {
      'client CPU µs/event': (used.user + used.system) / m.ops,
      'Redis µs/event': serverMicros(before, after) / m.ops,
    },
  }
}

const ratio = (v: number) => `${v.toFixed(2)}×`

export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_PUBLISH_EVENTS ?? (quick ? 10_000 : 50_000))
  const raw = new Redis(REDIS_URL, {
    enableOfflineQueue: false,
    lazyConnect: true,
    enableAutoPipelining: true,
  })
  const oldRaw = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true })
  await Promise.all([raw.connect(), oldRaw.connect()])
  const producer = createRedisConnection(REDIS_URL, 'producer')
  const stream = benchStream('publish')
  const publisher = createPublisher({ redis: producer, stream })
  const events = Array.from({ length: N }, (_, i) => benchEvent(i))
  const entries = events.map((e) => encodeEntry(e))
  const reset = async () => void (await oldRaw.del(stream))
  const contender = (name: string, run: () => Promise<void>) => ({
    name,
    prepare: reset,
    run: () => withCosts(oldRaw, () => timed(N, run)),
  })
  try {
    const result = await compare({
      title: `publish ${N.toLocaleString('en-US')} events, ${IN_FLIGHT} in flight`,
      unit: 'events/s',
      contenders: [
        contender(RAW, () =>
          withInFlight(N, IN_FLIGHT, (i) => {
            const event = events[i]!
            return raw.xadd(stream, '*', 'type', event.type, 'event', JSON.stringify(event))
          }),
        ),
        contender(OLD_RAW, () => withInFlight(N, IN_FLIGHT, (i) => oldRaw.xadd(stream, '*', ...entries[i]!))),
        contender(PUBLISH, () => withInFlight(N, IN_FLIGHT, (i) => publisher.publish(events[i]!))),
        contender('publisher.publishBatch (100)', () =>
          withInFlight(Math.ceil(N / 100), 1, (b) =>
            publisher.publishBatch(events.slice(b * 100, b * 100 + 100)),
          ),
        ),
      ],
    })
    const check = ratioTarget(result, {
      name: 'publisher.publish ÷ raw ioredis (auto-pipelined)',
      contender: PUBLISH,
      baseline: RAW,
      limit: 1,
    })
    const vsOld = ratioTarget(result, {
      name: 'vs previous baseline',
      contender: PUBLISH,
      baseline: OLD_RAW,
      limit: 1,
    }).values
    const notes = [
      `Against the previous baseline (raw ioredis, pre-encoded, no auto-pipelining) \`publisher.publish\` measured ${ratio(Math.min(...vsOld))}–${ratio(Math.max(...vsOld))} per round, median ${ratio(medianOf(vsOld))}.`,
      PUBLISH_ANALYSIS,
    ]
    if (!quick) {
      const rb = await redisBenchmark(stream, N)
      notes.push(
        rb === undefined
          ? 'redis-benchmark is not installed (`apt-get install -y redis-tools`): its XADD baseline is missing.'
          : `redis-benchmark XADD (C client, ${IN_FLIGHT} connections, one run): ${Math.round(rb).toLocaleString('en-US')} events/s.`,
      )
    }
    return reportOf(result, RAW, [check], notes)
  } finally {
    await oldRaw.del(stream)
    raw.disconnect()
    oldRaw.disconnect()
    producer.disconnect()
  }
}

const PUBLISH_ANALYSIS = `The baseline is what a competent user writes with ioredis: one connection with \`enableAutoPipelining\`, and
per event \`XADD <stream> * type <type> event JSON.stringify(event)\` at call time — the very bytes the publisher
writes (it sets no \`MAXLEN\` here). Auto-pipelining already sends the commands of a tick in one write, so the
publisher cannot win by pipelining alone: it does what the baseline does (a command, its encoding, a reply, a
promise per event) plus the contract check of every event (~0.3 µs) and its own bookkeeping. \`publish\`
collects the calls made in one tick and sends them as one pipeline of XADDs (at most 50 per pipeline, in call
order; each XADD answers alone, so a refused append fails its own publish only); validation stays at the call
(an invalid event rejects alone, at once, and is never sent).

Tried and dropped: one Lua script appending the tick's events (\`pcall\`'d XADD per event). Side by side on the
quiet machine (2026-12-04, load average ~2, 50,000 events, 5 rounds) it cost Redis 3.43 µs per event against
0.57 µs for XADDs sent as commands (the Redis µs/event column: a command a script issues costs more than one
read from a socket, its reply goes back through Lua, and XADD \`*\` is rewritten for propagation), and
\`publish\` measured 0.81× (0.61–0.85× per round) of the baseline; the pipeline measured 1.04× (0.87–1.15×) in
the next run, with Redis at 0.51 µs per event. Where the rest goes: the client CPU column — \`publish\` spends
about as much per event as the baseline plus the check, so the two sit within each other's noise and the
≥ 1.0× target is met in some rounds and missed in others; winning every round would need the publisher to do
less per event than a bare ioredis call, and the contract check is the one thing it must add.`

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
