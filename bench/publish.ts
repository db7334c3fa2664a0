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
/** Each round is this many passes over the contenders, each doing 1/SLICES of the round's events (harness `compare`). */
const SLICES = 10
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
  const SLICE = Math.ceil(N / SLICES)
  const events = Array.from({ length: N }, (_, i) => benchEvent(i))
  const entries = events.map((e) => encodeEntry(e))
  const reset = async () => void (await oldRaw.del(stream))
  const contender = (name: string, run: () => Promise<void>) => ({
    name,
    prepare: reset,
    run: () => withCosts(oldRaw, () => timed(SLICE, run)),
  })
  try {
    const result = await compare({
      title: `publish ${N.toLocaleString('en-US')} events, ${IN_FLIGHT} in flight`,
      unit: 'events/s',
      slices: SLICES,
      contenders: [
        contender(RAW, () =>
          withInFlight(SLICE, IN_FLIGHT, (i) => {
            const event = events[i]!
            return raw.xadd(stream, '*', 'type', event.type, 'event', JSON.stringify(event))
          }),
        ),
        contender(OLD_RAW, () =>
          withInFlight(SLICE, IN_FLIGHT, (i) => oldRaw.xadd(stream, '*', ...entries[i]!)),
        ),
        contender(PUBLISH, () => withInFlight(SLICE, IN_FLIGHT, (i) => publisher.publish(events[i]!))),
        contender('publisher.publishBatch (100)', () =>
          withInFlight(Math.ceil(SLICE / 100), 1, (b) =>
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
writes (it sets no \`MAXLEN\` here). Auto-pipelining already sends the commands of a tick in one write (and keeps
one pipeline in flight per connection: the next waits for the last reply), so the publisher cannot win by
pipelining alone. \`publish\` collects the calls made in one tick and sends them as one pipeline of XADDs (up to
100, in call order, one write; a bigger burst is cut into pipelines of 100); each XADD answers alone and each
publish resolves as its own reply is read, so a refused append fails its own publish only; validation stays at
the call (an invalid event rejects alone, at once, and is never sent).

Per event the publisher does less than the baseline apart from the contract check: its pipeline skips what
auto-pipelining adds per command (a second promise, a callback and a \`process.nextTick\` per reply), and the
\`producer\` connection does not set ioredis' \`commandTimeout\`, which armed and cleared a timer for every XADD
(~0.5 µs of client CPU per event in the profile); the publisher bounds each round trip itself with one timer
(\`timeoutMs\`, 2 s: a publish that gets no reply fails with \`PublishError\`, cause "Command timed out").
Side by side in one process (50,000 events, 100 in flight, 9 interleaved rounds, load average 3.1–3.4), main-thread
CPU per event was 2.85 µs for the baseline, 2.91 µs for the publisher with the per-command timeout and 2.50 µs
without it.

Tried and dropped: one Lua script appending the tick's events (\`pcall\`'d XADD per event). Side by side on the
quiet machine (2026-12-04, load average ~2, 50,000 events, 5 rounds) it cost Redis 3.43 µs per event against
0.57 µs for XADDs sent as commands (a command a script issues costs more than one read from a socket, its reply
goes back through Lua, and XADD \`*\` is rewritten for propagation), and \`publish\` measured 0.81× of the baseline.

Why \`publish\` ran at ~220k events/s in some rounds and ~330k in others (2026-12-04, 10:17–10:42 UTC, load
average 0.5–6 from other work on this 2-core machine; instrumented copies of this benchmark counting writes,
reads, pipeline sizes and, per round, the CPU of the main thread, of the process's other threads, of Redis and of
everything else): not the pipelines — every publish round was exactly 1,000 pipelines of 50 (1,000 writes;
the baseline 500 writes of 100) — and not collector pauses on the main thread (after the first timed rounds the
longest gap between two writes was 2–7 ms in fast and slow rounds alike), but whether Redis had a core of its own. In a fast round (330–380k) the main
thread never slept (20–35 voluntary and 0–15 involuntary context switches per 50,000 events) and the round's
wall time equalled its CPU time (135–150 ms) while Redis (60–70 ms) ran beside it: two pipelines of 50 in flight
let the client encode one while Redis appends the other, and that overlap was the whole margin. In a slow round
the main thread used the same CPU but was preempted 400–1,000 times: the second core was busy — with other
processes (100–450 ms of CPU in that 0.2 s window), with this process's JIT and collector threads (90–150 ms in
the first timed rounds), or with what the contender before it left behind (\`publish\` always ran right after
the previous baseline's 50,000 single writes: its client CPU column read 3.9–4.5 µs/event there and 3.1–3.6 when
run before it, the baseline's 3.1–3.3 — the gap the earlier notes left unexplained). The baseline sleeps while
Redis works (~900 voluntary switches a round), uses one core at a time and hardly noticed. Under steady load from
elsewhere (about one core busy, 10:29 UTC) the publisher measured 0.61–0.95× in rounds 2–6 of 9: both contenders
spent 75–200 ms of each 200–400 ms round inside socket writes (on a busy machine a write that wakes Redis waits
for a core), and the publisher, cutting at 50 mid-tick, made twice as many.

Two changes. This benchmark: each contender's 0.2 s round sampled its own stretch of a shared machine, always in
the same order; a round is now 10 passes over the contenders (5,000 events each, the first place rotating), so
every contender's round spans the same time and none always follows the same one. The publisher: one write per
tick instead of a cut at 50, and each publish resolved as its reply is read instead of when the whole pipeline
is. Redis reads a client's input 16 KB at a time, so a pipeline of 100 (~27 KB) is answered in two pieces; with a
core free the callers of the first ~60 replies publish again while Redis appends the rest (the overlap stays);
when replies pile up because the client was off its core, one read returns them all and the next tick is one
pipeline of 100 again (lockstep, one write per 100 events). Side by side in one process with the sliced rounds
(3 runs of 9 rounds, 10:40 UTC, load average 2.5–2.6), per round ÷ the baseline: the cut at 50 answered per
pipeline 0.86–1.41× (median 0.91×), 1.20–1.59× (1.42×), 0.75–1.29× (0.91×); this change 0.89–1.29× (1.10×),
1.02–1.52× (1.32×), 0.96–1.32× (1.03×); one pipeline of 100 answered whole (strict lockstep, tried) 0.86–1.19×
(1.06×), 1.09–1.26× (1.19×), 0.98–1.21× (1.08×). Writing each XADD on a corked socket instead of a pipeline
(tried) cost 160–190 ms of main-thread CPU per 50,000 events against 120–150.

Measured after these changes with \`bun bench/publish.ts\` (2026-12-04), per-round ratio, median:
10:36 UTC, load average 2.7 and 2.5: 1.12–1.32× (1.23×) and 1.22–1.34× (1.27×), every round met; 10:41–10:46 UTC,
load average 2.7–3.9 and 1.7–3.2, with the baseline itself down to 127–180k events/s and Redis at 0.7–1.1 µs per
event (0.5 on a quiet machine — it serves other work too): 0.89–1.23× (1.04×), 0.85–1.22× (0.98×), 0.92–1.11×
(1.02×), 0.67–1.15× (0.92×), 0.80–1.12× (1.01×), 0.80–1.28× (0.95×), 0.80–1.64× (1.03×), 1.08–1.28× (1.16×, every
round met), 0.78–1.24× (0.99×), 0.94–1.11× (1.01×), 0.85–1.21× (1.10×), 0.84–1.30× (1.07×). So the target holds
when the machine leaves Redis a core; when it does not, \`publish\` and the baseline are at parity per event
(client CPU columns within ~10% of each other) and single rounds still fall to 0.7–0.9×: what would hold there
is less work per event (the ioredis command path both share), not another pipeline shape.`

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
