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

/** Adds the Redis server time and this process's CPU time per event (all commands during the round). */
const withCosts = async (
  redis: Redis,
  deltas: Map<string, string[]>,
  name: string,
  round: () => Promise<Measurement>,
): Promise<Measurement> => {
  const before = await commandStats(redis)
  const cpu = process.cpuUsage()
  const m = await round()
  const used = process.cpuUsage(cpu)
  const after = await commandStats(redis)
  deltas.set(name, describeDelta(before, after))
  return {
    ...m,
    extra: {
      'client CPU µs/event': (used.user + used.system) / m.ops,
      'Redis µs/event': serverMicros(before, after) / m.ops,
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
    run: () => withCosts(redis, deltas, name, round),
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
      `Redis commands in the last round of each (INFO commandstats deltas; commands a script runs are counted too, inside its own time; other clients of this Redis add a little):\n\n${[
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

const DRAIN_ANALYSIS = `TODO`

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
