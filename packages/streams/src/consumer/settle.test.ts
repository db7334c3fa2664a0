import { describe, expect, it } from 'bun:test'
import { useRedisConnection } from '../test-support.ts'
import { cleanupStream, uniqueStreamName } from '../testing.ts'
import { createAcker } from './settle.ts'

const redis = useRedisConnection()

/** Adds `n` entries and reads them into the group as `consumer`; resolves to their ids. */
const deliver = async (stream: string, consumer: string, n: number): Promise<string[]> => {
  for (let i = 0; i < n; i++) await redis.xadd(stream, '*', 'n', String(i))
  const reply = (await redis.xreadgroup('GROUP', 'g', consumer, 'COUNT', n, 'STREAMS', stream, '>')) as [
    string,
    [string, string[]][],
  ][]
  return reply[0]![1].map(([id]) => id)
}

const pendingOf = async (stream: string, consumer: string) =>
  ((await redis.xpending(stream, 'g', '-', '+', 1000, consumer)) as [string][]).map(([id]) => id)

describe('owner-checked acks', () => {
  it('acks own entries, refuses entries another consumer owns, and ignores ids no longer pending', async () => {
    const stream = uniqueStreamName('acker')
    try {
      await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
      const mine = await deliver(stream, 'me', 3)
      const theirs = await deliver(stream, 'other', 2)
      const alreadyAcked = await deliver(stream, 'me', 1)
      await redis.xack(stream, 'g', ...alreadyAcked)
      const acker = createAcker(() => redis, stream, 'g', 'me')
      // Out of order, interleaved: the range shortcut spans the other consumer's entries.
      acker.add([mine[2]!, theirs[0]!, alreadyAcked[0]!, mine[0]!, theirs[1]!, mine[1]!])
      const refused = await acker.flush()
      expect(refused.sort()).toEqual([...theirs].sort())
      expect(await pendingOf(stream, 'me')).toEqual([])
      expect(await pendingOf(stream, 'other')).toEqual(theirs)
      expect(acker.size).toBe(0)
    } finally {
      await cleanupStream(redis, stream)
    }
  })

  it('acks every own id even when other own pending entries fill the range read', async () => {
    const stream = uniqueStreamName('acker')
    try {
      await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
      const ids = await deliver(stream, 'me', 40)
      // Ack the first and the last ten: the twenty in between are own entries the range read meets first.
      const toAck = [...ids.slice(0, 10), ...ids.slice(30)]
      const acker = createAcker(() => redis, stream, 'g', 'me')
      acker.add(toAck)
      expect(await acker.flush()).toEqual([])
      expect(await pendingOf(stream, 'me')).toEqual(ids.slice(10, 30))
    } finally {
      await cleanupStream(redis, stream)
    }
  })

  it('acks straight away while no other consumer has anything pending, ignoring ids no longer pending', async () => {
    const stream = uniqueStreamName('acker')
    try {
      await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
      const ids = await deliver(stream, 'me', 5)
      // Another consumer that owns nothing right now: it cannot own any of the ids.
      await redis.xgroup('CREATECONSUMER', stream, 'g', 'other')
      await redis.xack(stream, 'g', ids[0]!)
      const acker = createAcker(() => redis, stream, 'g', 'me')
      acker.add(ids.slice(0, 3))
      expect(await acker.flush()).toEqual([])
      expect(await pendingOf(stream, 'me')).toEqual(ids.slice(3))
      // Nothing pending at all: nothing to ack, nothing refused.
      acker.add(ids.slice(0, 3))
      expect(await acker.flush()).toEqual([])
      acker.add(ids.slice(3))
      expect(await acker.flush()).toEqual([])
      acker.add(ids.slice(3))
      expect(await acker.flush()).toEqual([])
      expect(await pendingOf(stream, 'me')).toEqual([])
    } finally {
      await cleanupStream(redis, stream)
    }
  })

  it('refuses an id another consumer claimed even when it is the only other owner', async () => {
    const stream = uniqueStreamName('acker')
    try {
      await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
      const ids = await deliver(stream, 'me', 3)
      await redis.xclaim(stream, 'g', 'other', 0, ids[1]!)
      const acker = createAcker(() => redis, stream, 'g', 'me')
      acker.add(ids)
      expect(await acker.flush()).toEqual([ids[1]!])
      expect(await pendingOf(stream, 'me')).toEqual([])
      expect(await pendingOf(stream, 'other')).toEqual([ids[1]!])
    } finally {
      await cleanupStream(redis, stream)
    }
  })
})
