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
publisher cannot win by pipelining alone: each XADD still costs ioredis a command object, its encoding, a reply
and a promise, while the publisher must also validate every event against the contract (~0.3 µs). \`publish\`
therefore collects the calls made in one tick and appends them with one script per 50 (\`XADD_MANY\`: one
\`pcall\`'d XADD per event, in call order, returning each event's id or its own error), so Redis appends one
while the client encodes the next; a publish alone in its tick is a plain XADD. Validation stays at the call
(an invalid event rejects alone, at once, and is never sent).

The trade, in the columns above: less client CPU per event (in a calmer moment, load average ~1–5, a
stand-alone loop measured ~2.7–3.8 µs against ~3–6 µs for the baseline), but ~2.5–4 µs of Redis time per event
against ~1–1.4 µs for a bare XADD: a command a script issues costs Redis more than one read from a socket (its
reply goes back through Lua, and XADD \`*\` is rewritten for propagation). On a quiet machine the two run on
different cores and the client's saving wins; on 2 busy cores Redis's time is the benchmark's time too and
the two sides come out even. Measured while other work loaded the machine (load average 7–15), five runs of
this file at 50,000 events gave per-round medians of 1.38×, 0.78×, 1.12×, 0.90× and, with scripts of up to 500
instead of 50, 1.50× and 0.87× — no difference between the two sizes beyond the noise, and rounds below 1.0×
in most runs. **The ≥ 1.0× target is not met in every round under this load**; whether it holds on a quiet
machine was not measured here. \`publishBatch\` (a pipeline of XADDs, no script) stays the cheapest path for
Redis and measured 1.06–1.24× of the new baseline by medians in the same runs.`

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
