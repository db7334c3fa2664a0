/** Drain throughput: the consumer-group runner (no-op handler) against a raw XREADGROUP + batch XACK loop. */
import { createConsumer } from '@flotilla/streams'
import Redis from 'ioredis'
import { benchStream } from './lib/fixtures.ts'
import { type ComparisonResult, compare, printResult, type Measurement } from './lib/harness.ts'
import { prefill, rawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'

const N = Number(process.env.BENCH_DRAIN_EVENTS ?? 1_000_000)

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
  const start = performance.now()
  await consumer.start()
  while (consumer.status().processed < n) await Bun.sleep(5)
  const seconds = (performance.now() - start) / 1000
  await consumer.close()
  await redis.xgroup('DESTROY', stream, group)
  return { ops: n, seconds }
}

export const run = async (): Promise<ComparisonResult> => {
  const redis = new Redis(REDIS_URL)
  const stream = benchStream('drain')
  try {
    await prefill(redis, stream, N, 'drain prefill')
    return await compare({
      title: `drain ${N.toLocaleString('en-US')} prefilled events, no-op handler`,
      unit: 'events/s',
      contenders: [
        {
          name: 'raw XREADGROUP COUNT 100 + XACK per batch',
          run: async () => {
            const group = await freshGroup(redis, stream)
            const start = performance.now()
            const n = await rawDrain(redis, stream, group)
            const seconds = (performance.now() - start) / 1000
            await redis.xgroup('DESTROY', stream, group)
            return { ops: n, seconds }
          },
        },
        { name: 'consumer runner (handleBatch no-op)', run: () => drainWithRunner(redis, stream, N) },
        {
          name: 'consumer runner (handle no-op)',
          run: () => drainWithRunner(redis, stream, N, { handle: () => {} }),
        },
      ],
    })
  } finally {
    await redis.del(stream)
    redis.disconnect()
  }
}

if (import.meta.main) {
  printResult(await run(), 'raw XREADGROUP COUNT 100 + XACK per batch', '≥ 0.75× raw loop')
  process.exit(0)
}
