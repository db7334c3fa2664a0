/** Drain throughput: the consumer-group runner (no-op handler) against a raw XREADGROUP + batch XACK loop. */
import { loadavg } from 'node:os'
import { decodeEntry } from '@flotilla/contracts'
import { createConsumer } from '@flotilla/streams'
import Redis from 'ioredis'
import { benchEntry, benchStream } from './lib/fixtures.ts'
import { type ComparisonResult, compare, type Measurement, section, timeConsumer } from './lib/harness.ts'
import { prefill, timedRawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { commandStats, describeDelta, serverMicros } from './lib/redis-stats.ts'

const N = Number(process.env.BENCH_DRAIN_EVENTS ?? 1_000_000)
const RAW = 'raw XREADGROUP COUNT 100 + XACK per batch'
const BATCH_RUNNER = 'consumer runner (handleBatch no-op)'
const HANDLE_RUNNER = 'consumer runner (handle no-op, concurrency 16)'

/** Each round reads the whole prefilled stream through a fresh group, so nothing is refilled between rounds. */
const freshGroup = async (redis: Redis, stream: string) => {
  const group = `g${crypto.randomUUID().slice(0, 8)}`
  await redis.xgroup('CREATE', stream, group, '0')
  return group
}

/** Runs the streams consumer until it has processed `n` entries; returns the elapsed time. */
export const drainWithRunner = async (
  redis: Redis,
  stream: string,
  n: number,
  handler: Parameters<typeof createConsumer>[0]['handler'] = { handleBatch: () => {} },
): Promise<Measurement> => {
  const group = await freshGroup(redis, stream)
  const consumer = createConsumer({
    redisUrl: REDIS_URL,
    stream,
    group,
    handler,
    batchSize: 100,
    blockMs: 200,
  })
  const seconds = await timeConsumer(consumer, () => consumer.status().processed >= n)
  await redis.xgroup('DESTROY', stream, group)
  return { ops: n, seconds }
}

/** Adds the Redis server time per event (all commands during the round) to a measurement. */
const withServerTime = async (redis: Redis, round: () => Promise<Measurement>): Promise<Measurement> => {
  const before = await commandStats(redis)
  const m = await round()
  const after = await commandStats(redis)
  lastDelta.set(currentName, describeDelta(before, after))
  return { ...m, extra: { 'Redis µs/event': serverMicros(before, after) / m.ops } }
}
const lastDelta = new Map<string, string[]>()
let currentName = ''
const named = (name: string, round: (redis: Redis) => Promise<Measurement>) => (redis: Redis) => ({
  name,
  run: () => {
    currentName = name
    return withServerTime(redis, () => round(redis))
  },
})

/** Contract decode alone (JSON.parse + compiled TypeBox checks), µs per event, on the bench event. */
const decodeMicros = (): number => {
  const records = Array.from({ length: 1000 }, (_, i) => {
    const [a, b, c, d] = benchEntry(i)
    return { [a]: b, [c]: d }
  })
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    const t = performance.now()
    for (let k = 0; k < 20; k++) for (const r of records) decodeEntry(r)
    best = Math.min(best, ((performance.now() - t) * 1000) / 20_000)
  }
  return best
}

export const run = async (): Promise<{ result: ComparisonResult; notes: string[] }> => {
  const redis = new Redis(REDIS_URL)
  const stream = benchStream('drain')
  try {
    await prefill(redis, stream, N, 'drain prefill')
    const contenders = [
      named(RAW, (r) => timedRawDrain(r, stream, `g${crypto.randomUUID().slice(0, 8)}`)),
      named(BATCH_RUNNER, (r) => drainWithRunner(r, stream, N)),
      named(HANDLE_RUNNER, (r) => drainWithRunner(r, stream, N, { handle: () => {} })),
    ].map((c) => c(redis))
    const result = await compare({
      title: `drain ${N.toLocaleString('en-US')} prefilled events, no-op handler`,
      unit: 'events/s',
      contenders,
    })
    const ratioOf = (name: string) =>
      (result.results.find((r) => r.name === name)?.median ?? Number.NaN) /
      (result.results.find((r) => r.name === RAW)?.median ?? Number.NaN)
    const batch = ratioOf(BATCH_RUNNER)
    const single = ratioOf(HANDLE_RUNNER)
    const verdict = (r: number) => (r >= 0.75 ? 'met' : 'missed')
    const notes = [
      `**In this run** the runner reached ${batch.toFixed(2)}× with \`handleBatch\` (target ${verdict(batch)}) and ${single.toFixed(2)}× with \`handle\` (target ${verdict(single)}), load average ${loadavg()[0]?.toFixed(1)} at the end.`,
      `Redis commands in the last round of each (INFO commandstats deltas; other clients of this Redis add a little):\n\n${[
        ...lastDelta,
      ]
        .map(([name, lines]) => `- ${name}: ${lines.slice(0, 5).join('; ')}`)
        .join('\n')}`,
      `Contract decode alone (JSON.parse + compiled TypeBox checks) of the bench event: ${decodeMicros().toFixed(2)} µs/event (best of 5 × 20,000).`,
      DRAIN_ANALYSIS,
    ]
    return { result, notes }
  } finally {
    await redis.del(stream)
    redis.disconnect()
  }
}

const DRAIN_ANALYSIS = `**What was done, and why the target is met in some runs and missed in others.** Profiled with \`bun --cpu-prof\` (100k–200k
events) and Redis commandstats. Before this work the runner reached ~0.45× of the raw loop at 50k events: its
owner-checked ack script ran one XPENDING per id inside Lua (~400 µs of Redis time per batch of 100, against
~36 µs for the raw loop's XACK); contract decode checked the envelope twice (generic envelope, then envelope +
payload) and counted the UTF-8 bytes of every entry (~2.6–3.3 µs/event); and the next XREADGROUP was only sent
after the batch had been handled and acked. Changes, none of which weakens a guarantee: (1) the reader
prefetches the next batch on the blocking connection while the current one is handled and acked on the command
connection (prefetched entries are marked in flight at once, so the reclaimer leaves them alone; a consumer
now holds up to two batches); (2) the ack script reads this consumer's own pending entries in the batch's id
range with one XPENDING and looks up one by one only the ids not found there, so refusals of entries another
consumer claimed and ids no longer pending behave exactly as before — ~150–220 µs per 100 ids; (3) a
catalogued event is checked once with its full schema (which contains the envelope; failures still take the
long path, so problems are listed as before), and only text longer than a third of the size limit pays for
\`Buffer.byteLength\` (~1.6 µs/event). Measured once, interleaved in one run against the
runtime as it was before (commit 0ca389d, loaded from a copy) on 2026-11-27: at 200k events raw 154k/s, before
67k/s (0.43×), after 122k/s (0.79×); at 1M events raw 201k/s, before 76k/s (0.38×), after 103k/s (0.51×).
Later the same day, (4) Bun's missing \`TracingChannel.hasSubscribers\` (oven-sh/bun#27805) was found to make
ioredis trace every command with nobody listening; \`@flotilla/streams\` now installs Node's getter (1.3–1.6× the
client-side command rate of auto-pipelined GETs). Both contenders use ioredis and gain, the runner more, since it
sends more commands per event. A 1M drain sampled every 250 ms holds a flat rate from start to end (~200–270k/s),
so a long drain does not lose speed as it goes: the 1M runs that measured ~0.5× were runs under load.

What is left: the runner spends about twice the raw loop's time per event (~9–10 µs against ~5 µs in a quiet
moment). Contract decode (JSON.parse + the compiled schema check) is ~0.8–1.6 µs of it (the line above; ~16% of
the runner's profile, JSON.parse two thirds of that); the ack script's Lua adds ~1.5–2.5 µs/event of Redis time
over a bare XACK (the Redis µs/event column; on 2 shared cores Redis's time is the benchmark's time too); the
rest is spread over the message objects, the two sockets the runner uses (a blocking reader and a command
connection, where the raw loop reads and acks on one) and their reply handling. An experiment (not shipped)
replacing the owner-checked script with a bare XACK still gave only ~0.45× in its run, and another that sent the
ack without waiting for it (pipelined with the next batch) gained ~15%, within the noise, and would let a crash
lose more acks, so neither was kept. No change found closes the gap further without dropping validation or the
owner check — the guarantees this runtime exists for. Since (4), at 1M events the \`handleBatch\` runner measured
0.77–0.83× in quiet runs (load average ~1) and 0.51× with a load average of 4.5 (\`handle\`: 0.73–0.74× and
0.48×): under load the runner loses more than the raw loop, as it spends about twice the Redis time per event and
uses two sockets, and on 2 shared cores Redis's time is the benchmark's too. The target holds for \`handleBatch\` on
a quiet machine and is missed under load; \`handle\` sits just under it, as it also runs a timeout race and a
worker loop per message. The verdict line above is this run's.`

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  const { result, notes } = await run()
  return section(result, RAW, '≥ 0.75× raw loop', notes)
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
