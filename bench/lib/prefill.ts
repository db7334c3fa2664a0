/** Prefills a stream with fixed ~200-byte events in pipelined chunks (not timed). */
import type Redis from 'ioredis'
import { benchEntry } from './fixtures.ts'
import type { Measurement } from './harness.ts'

export const prefill = async (
  redis: Redis,
  stream: string,
  count: number,
  label = 'prefill',
): Promise<void> => {
  const chunk = 5_000
  for (let done = 0; done < count; done += chunk) {
    const pipeline = redis.pipeline()
    for (let i = done; i < Math.min(count, done + chunk); i++) pipeline.xadd(stream, '*', ...benchEntry(i))
    await pipeline.exec()
    if (done % 100_000 === 0)
      process.stderr.write(
        `\r  ${label}: ${done.toLocaleString('en-US')}/${count.toLocaleString('en-US')}   `,
      )
  }
  process.stderr.write(`\r  ${label}: ${count.toLocaleString('en-US')} entries ready          \n`)
}

/** A raw drain: XREADGROUP COUNT 100 and one XACK per batch until the group has read everything. */
const rawDrain = async (
  redis: Redis,
  stream: string,
  group: string,
  onBatch?: (entries: [string, string[]][]) => Promise<void> | void,
): Promise<number> => {
  let total = 0
  for (;;) {
    const reply = (await redis.xreadgroup('GROUP', group, 'raw', 'COUNT', 100, 'STREAMS', stream, '>')) as
      | [string, [string, string[]][]][]
      | null
    const entries = reply?.[0]?.[1] ?? []
    if (entries.length === 0) return total
    await onBatch?.(entries)
    await redis.xack(stream, group, ...entries.map(([id]) => id))
    total += entries.length
  }
}

/** One timed raw-drain round: a new group reads `stream` from the start with {@link rawDrain}, then is destroyed. */
export const timedRawDrain = async (redis: Redis, stream: string, group: string): Promise<Measurement> => {
  await redis.xgroup('CREATE', stream, group, '0')
  const start = performance.now()
  const n = await rawDrain(redis, stream, group)
  const seconds = (performance.now() - start) / 1000
  await redis.xgroup('DESTROY', stream, group)
  return { ops: n, seconds }
}
