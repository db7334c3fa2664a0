/**
 * Drain throughput: the consumer-group runner (no-op handler) against a raw XREADGROUP + batch XACK loop, at
 * 200k and 1M prefilled events; a ceiling row runs the raw loop with the runner's owner-checked ack instead.
 */
import { decodeEntry } from '@flotilla/contracts'
import { createConsumer } from '@flotilla/streams'
import Redis from 'ioredis'
// The runner's own acker (not public API): the ceiling row does the runner's Redis work without its decode.
import { createAcker } from '../packages/streams/src/consumer/settle.ts'
import { benchEntry, benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  type ComparisonResult,
  compare,
  type Measurement,
  medianOf,
  ratioTarget,
  reportOf,
  type TargetCheck,
  timeConsumer,
} from './lib/harness.ts'
import { prefill, timedRawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { commandStats, describeDelta, serverMicros } from './lib/redis-stats.ts'

const RAW = 'raw XREADGROUP COUNT 100 + XACK per batch'
const CEILING = 'raw XREADGROUP COUNT 100 + the owner-checked ack script (ceiling: the runner’s Redis work)'
const DECODE_CEILING =
  'raw XREADGROUP COUNT 100 + decodeEntry of every entry + the owner-checked ack script (ceiling: the runner’s required work)'
const BATCH_RUNNER = 'consumer runner (handleBatch no-op)'
const HANDLE_RUNNER = 'consumer runner (handle no-op, concurrency 16)'
const TARGET = 0.8

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

/**
 * The raw loop acking each batch through the runner's owner-checked acker (same script, same range work);
 * with `decode`, it also validates every entry as the runner must (and fails the round on an invalid one).
 */
const drainWithAckScript = (redis: Redis, stream: string, decode = false) =>
  timedRawDrain(redis, stream, `g${crypto.randomUUID().slice(0, 8)}`, async (r, s, group, ids, entries) => {
    if (decode)
      for (const [, fields] of entries) if (!decodeEntry(fields).ok) throw new Error('invalid bench entry')
    const acker = createAcker(() => r, s, group, 'raw')
    acker.add(ids)
    await acker.flush()
  })

// Commands the owner-checked ack script runs: commandstats counts them on their own as well as inside EVALSHA's
// time, so for a contender that acks through the script they are left out of its Redis time (counted once).
const SCRIPT_INNER = ['xack', 'xpending']

/** Adds the Redis server time and this process's CPU time per event (all commands during the round). */
const withCosts = async (
  redis: Redis,
  deltas: Map<string, string[]>,
  name: string,
  round: () => Promise<Measurement>,
  scripted: boolean,
): Promise<Measurement> => {
  const before = await commandStats(redis)
  const cpu = process.cpuUsage()
  const m = await round()
  const used = process.cpuUsage(cpu)
  const after = await commandStats(redis)
  deltas.set(name, describeDelta(before, after))
  const server = serverMicros(before, after) - (scripted ? serverMicros(before, after, SCRIPT_INNER) : 0)
  return {
    ...m,
    extra: {
      'client CPU µs/event': (used.user + used.system) / m.ops,
      'Redis µs/event': server / m.ops,
    },
  }
}

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

const fmt = (v: number) => v.toFixed(2)

/** One size: prefill, compare, one target check, the per-contender costs and command deltas. */
const drainAt = async (
  n: number,
  quick: boolean,
): Promise<{ result: ComparisonResult; check: TargetCheck; notes: string[] }> => {
  const redis = new Redis(REDIS_URL)
  const stream = benchStream('drain')
  const deltas = new Map<string, string[]>()
  const named = (name: string, round: () => Promise<Measurement>) => ({
    name,
    run: () => withCosts(redis, deltas, name, round, name !== RAW),
  })
  try {
    await prefill(redis, stream, n, `drain prefill ${n.toLocaleString('en-US')}`)
    const contenders = [
      named(RAW, () => timedRawDrain(redis, stream, `g${crypto.randomUUID().slice(0, 8)}`)),
      named(BATCH_RUNNER, () => drainWithRunner(redis, stream, n)),
      ...(quick
        ? []
        : [
            named(CEILING, () => drainWithAckScript(redis, stream)),
            named(DECODE_CEILING, () => drainWithAckScript(redis, stream, true)),
            named(HANDLE_RUNNER, () => drainWithRunner(redis, stream, n, { handle: () => {} })),
          ]),
    ]
    const result = await compare({
      title: `drain ${n.toLocaleString('en-US')} prefilled events, no-op handler`,
      unit: 'events/s',
      contenders,
    })
    const check = ratioTarget(result, {
      name: `drain ${n.toLocaleString('en-US')}: handleBatch runner ÷ raw loop`,
      contender: BATCH_RUNNER,
      baseline: RAW,
      limit: TARGET,
    })
    const notes = [
      `Redis commands in the last round of each (INFO commandstats deltas; commands a script runs are counted too, inside its own time, and once only in the Redis µs/event column; other clients of this Redis add a little):\n\n${[
        ...deltas,
      ]
        .map(([name, lines]) => `- ${name}: ${lines.slice(0, 5).join('; ')}`)
        .join('\n')}`,
    ]
    if (!quick) {
      const ceiling = ratioTarget(result, {
        name: 'ceiling',
        contender: CEILING,
        baseline: RAW,
        limit: TARGET,
      })
      notes.push(
        `The ceiling row (raw loop, acks through the runner's owner-checked acker, no decode, one socket) measured ${fmt(Math.min(...ceiling.values))}–${fmt(Math.max(...ceiling.values))}× of the raw loop per round (median ${fmt(medianOf(ceiling.values))}×).`,
      )
    }
    return { result, check, notes }
  } finally {
    await redis.del(stream)
    redis.disconnect()
  }
}

export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const fromEnv = process.env.BENCH_DRAIN_EVENTS
  const sizes = fromEnv ? [Number(fromEnv)] : quick ? [20_000] : [200_000, 1_000_000]
  const parts: string[] = []
  const checks: TargetCheck[] = []
  for (const n of sizes) {
    const { result, check, notes } = await drainAt(n, quick)
    parts.push(reportOf(result, RAW, [check], notes).markdown)
    checks.push(check)
  }
  parts.push(
    `Contract decode alone (JSON.parse + compiled TypeBox checks) of the bench event: ${fmt(decodeMicros())} µs/event (best of 5 × 20,000).`,
    DRAIN_ANALYSIS,
  )
  return { markdown: parts.join('\n\n'), checks }
}

const DRAIN_ANALYSIS = `**What was done for the 0.8× target, and where it stands.** Measured with \`bun --cpu-prof\` (self time per
function) on the runner alone, and with a runner-only script that runs the raw loop, the runner before a change
and after it in one process, interleaved (200,000 events, 7–15 rounds), reporting the main thread's CPU per event
(\`/proc/self/task/<pid>/schedstat\`); 2 cores shared with other work, load average 1–5 throughout.

Earlier work: the ack script first reads the group's XPENDING summary and, when this consumer is the only one
with anything pending, acks with a bare XACK (the refusals of entries another consumer claimed are unchanged:
\`settle.test.ts\`, \`recovery.test.ts\`); the next batch prefetched on the blocking connection; a catalogued event
checked once with its full schema; fields not copied, hook arguments built only when the hook is set.

This round, per entry on the drain path:

1. *No Delivery object and no in-flight Set per entry.* A read's ids and field lists are kept as ioredis returns
   them; the batch is marked in flight and released as one array (the reclaimer's lookups go through an index
   built on demand). Hashing every id into a Set and deleting it again cost 0.15–0.2 µs per entry (microbenchmark).
2. *The \`>\` read returns Buffers* (\`callBuffer\`): ioredis decodes every bulk string of a reply and copies every
   array; now the ids are decoded on arrival, the values when the batch is decoded, and the field names
   (\`type\`, \`event\`, \`replayFor\`, \`replayOf\`) are matched as bytes. A raw loop reading Buffers the same way
   measured 1.35 µs/event against 1.50 µs with strings.
3. *Decoding is split from settling* (\`consumer/decode.ts\`), and a batch that arrives while the previous
   batch's handler is awaiting is decoded during that wait; its handler still starts only after the previous
   batch is settled and acked (\`consumer.test.ts\`, "prefetch"). With a handler that awaits three Redis round
   trips per batch the runner went from 0.42× to 0.48× of the raw loop (median of 7 rounds, load average ~1.8).

Main-thread CPU per event, the runner before this round → after the first change (one run) and → after both
(another run): 5.12 → 4.07 µs and 4.63 → 3.27 µs; the raw loop measured 1.93 and 2.01 µs in those runs. With the
contract decode stubbed out the runner measured 1.6–2.2 µs/event, the raw loop's own level: what is left above
the raw loop is the decode this runner must do (~0.9 µs/event in place: JSON.parse ~0.4, the compiled checks
~0.5), and the ioredis reply parsing both pay.

Why the ratio still moves with the load: the runner keeps Redis and its own thread busy at once, so it needs both
cores; on a shared machine its main thread waited for a core 23–36% of the time at a load average of ~2 (runnable,
not running) and for Redis ~10%. The raw loop waits for each reply and needs one core. The ack script also
costs Redis ~0.26 µs per id more than a bare XACK (the ids go through Lua), which counts when both share the
cores. Tried and dropped: sending a batch's acks without waiting for their reply before the next batch (15 paired
rounds: no difference beyond the noise), so a batch is still settled before the next one starts.

Two runs of this file after these changes, back to back: 2026-12-04 07:19–07:22 UTC (load average 2.0 → 1.9)
and 07:24–07:27 (0.7 → 1.3). Runner ÷ raw loop at 200,000 events: median 0.97× (0.80–0.99× per round, 4 of 5
rounds met) and 0.88× (0.71–1.01×, 3 of 5); at 1,000,000: 0.97× (0.58–1.00×, 4 of 5) and 0.98× (0.86–1.03×, 5 of
5). Client CPU per event, runner / raw loop at 200,000: 3.10 / 1.86 and 3.34 / 1.78 µs. Before them the last quiet
full run measured 0.71× (0.70–0.82×) at 200,000 and 0.67× at 1,000,000, with 4.89 / 1.91 µs. So the medians now
sit near 1.0× on a quiet machine. The full run that wrote the tables above (2026-12-04 07:51–07:53, load average
~1–2 from the start of that run) met the target in every round at both sizes (0.86–1.07× at 200,000, 1.00–1.05× at
1,000,000); the two runs before it each had rounds below 0.8×, so on a busier machine a round can still miss:
what pulls such a round down was not isolated round by round; the runner's need for both cores (above) is the
likely cause.`

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
