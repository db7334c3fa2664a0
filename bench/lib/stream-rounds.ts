/** The stream reads and the runtime-alone round that several benchmarks share. */
import { createConsumer } from '@flotilla/streams'
import type Redis from 'ioredis'
import { type Measurement, timeConsumer } from './harness.ts'
import { REDIS_URL } from './redis.ts'

/** The next `count` new entries of `stream` for `group` (as consumer `reader`), as ioredis returns them. */
export const readNew = async (
  redis: Redis,
  stream: string,
  group: string,
  count: number,
  reader = 'raw',
): Promise<[string, string[]][]> => {
  const reply = (await redis.xreadgroup('GROUP', group, reader, 'COUNT', count, 'STREAMS', stream, '>')) as
    | [string, [string, string[]][]][]
    | null
  return reply?.[0]?.[1] ?? []
}

/**
 * One round of the stream runtime alone (the ceiling of a consumer's stream side): a fresh group drains `events`
 * entries of `stream` in batches of `batchSize` with a handler that does nothing, then is destroyed.
 */
export const noOpRuntimeRound = async (
  redis: Redis,
  stream: string,
  events: number,
  batchSize: number,
): Promise<Measurement> => {
  const group = `noop-${crypto.randomUUID().slice(0, 8)}`
  await redis.xgroup('CREATE', stream, group, '0')
  const consumer = createConsumer({
    redisUrl: REDIS_URL,
    stream,
    group,
    batchSize,
    blockMs: 200,
    handler: { handleBatch: async () => undefined },
  })
  try {
    return { ops: events, seconds: await timeConsumer(consumer, () => consumer.status().processed >= events) }
  } finally {
    await redis.xgroup('DESTROY', stream, group)
  }
}
