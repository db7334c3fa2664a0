/** Prefills a stream with fixed ~200-byte events in pipelined chunks (not timed). */
import type Redis from 'ioredis'
import { benchEntry } from './fixtures.ts'
import type { Measurement } from './harness.ts'
import { readNew } from './stream-rounds.ts'

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

/** How a raw drain acks one batch's ids: one XACK unless told otherwise. */
type Ack = (
  redis: Redis,
  stream: string,
  group: string,
  ids: string[],
  entries: [string, string[]][],
) => Promise<unknown>
const xack: Ack = (redis, stream, group, ids) => redis.xack(stream, group, ...ids)

/** A raw drain: XREADGROUP COUNT 100 and one XACK per batch until the group has read everything. */
const rawDrain = async (redis: Redis, stream: string, group: string, ack: Ack = xack): Promise<number> => {
  let total = 0
  for (;;) {
    const entries = await readNew(redis, stream, group, 100)
    if (entries.length === 0) return total
    await ack(
      redis,
      stream,
      group,
      entries.map(([id]) => id),
      entries,
    )
    total += entries.length
  }
}

/**
 * One timed raw-drain round: a new group reads `stream` from the start with {@link rawDrain}, then is destroyed.
 * `ack` replaces the batch's XACK (the drain benchmark's ceiling acks through the runner's owner-checked script).
 */
export const timedRawDrain = async (
  redis: Redis,
  stream: string,
  group: string,
  ack?: Ack,
): Promise<Measurement> => {
  await redis.xgroup('CREATE', stream, group, '0')
  const start = performance.now()
  const n = await rawDrain(redis, stream, group, ack)
  const seconds = (performance.now() - start) / 1000
  await redis.xgroup('DESTROY', stream, group)
  return { ops: n, seconds }
}
