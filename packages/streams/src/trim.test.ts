import { describe, expect, it } from 'bun:test'
import { useRedisStreams } from './test-support.ts'
import { createTrimmer, trimStream } from './trim.ts'

const DAY = 86_400_000
const { redis, newStream } = useRedisStreams()

/** Ten old entries with ids 1-1 … 10-1 (1970: far past any retention). */
const oldStream = async () => {
  const stream = newStream('trim')
  for (let i = 1; i <= 10; i++) await redis.xadd(stream, `${i}-1`, 'n', String(i))
  return stream
}
const read = (stream: string, group: string, count: number) =>
  redis.call('XREADGROUP', 'GROUP', group, 'c1', 'COUNT', count, 'STREAMS', stream, '>')
const idsOf = async (stream: string) => (await redis.xrange(stream, '-', '+')).map(([id]) => id)

describe('trimStream', () => {
  it('never removes an entry still pending in a group, even past the retention', async () => {
    const stream = await oldStream()
    await redis.xgroup('CREATE', stream, 'slow', '0')
    await read(stream, 'slow', 6)
    await redis.xack(stream, 'slow', '1-1', '2-1', '3-1', '5-1') // 4-1 and 6-1 stay pending
    await redis.xgroup('CREATE', stream, 'fast', '0')
    await read(stream, 'fast', 10)
    await redis.xack(stream, 'fast', ...(await idsOf(stream)))

    const result = await trimStream({ redis, stream, retentionMs: DAY })
    expect(result).toEqual({ trimmed: 3, minId: '4-1' })
    expect(await idsOf(stream)).toEqual(['4-1', '5-1', '6-1', '7-1', '8-1', '9-1', '10-1'])
  })

  it('never removes an entry not yet delivered to some group', async () => {
    const stream = await oldStream()
    await redis.xgroup('CREATE', stream, 'behind', '0')
    await read(stream, 'behind', 4)
    await redis.xack(stream, 'behind', '1-1', '2-1', '3-1', '4-1')
    await redis.xgroup('CREATE', stream, 'new', '0') // has read nothing yet

    expect(await trimStream({ redis, stream, retentionMs: DAY })).toEqual({ trimmed: 0, minId: '0-0' })
    expect(await idsOf(stream)).toHaveLength(10)
  })

  it("trims up to a group's last-delivered id when nothing is pending", async () => {
    const stream = await oldStream()
    await redis.xgroup('CREATE', stream, 'g', '0')
    await read(stream, 'g', 7)
    await redis.xack(stream, 'g', ...(await idsOf(stream)).slice(0, 7))
    expect(await trimStream({ redis, stream, retentionMs: DAY })).toEqual({ trimmed: 6, minId: '7-1' })
  })

  it('keeps entries younger than the retention', async () => {
    const stream = await oldStream()
    const young = await redis.xadd(stream, '*', 'n', 'young')
    const result = await trimStream({ redis, stream, retentionMs: DAY })
    expect(result.trimmed).toBe(10)
    expect(await idsOf(stream)).toEqual([young as string])
  })

  it('does nothing to a stream that does not exist', async () => {
    const stream = newStream('missing')
    expect((await trimStream({ redis, stream, retentionMs: 0 })).trimmed).toBe(0)
  })
})

describe('createTrimmer', () => {
  it('trims on demand and closes twice safely', async () => {
    const stream = await oldStream()
    const trimmer = createTrimmer({ redis, stream, retentionMs: DAY, intervalMs: 60_000 })
    expect((await trimmer.runOnce()).trimmed).toBe(10)
    const closing = trimmer.close()
    expect(trimmer.close()).toBe(closing)
    await closing
  })
})
