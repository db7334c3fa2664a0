import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { deadLetterStreamKey } from '@flotilla/contracts'
import { createRedisConnection } from '../connection.ts'
import { NonRetryableError } from '../errors.ts'
import { createPublisher } from '../publisher.ts'
import { REDIS_URL, startBlackholeProxy, useRedisStreams, userRegistered } from '../test-support.ts'
import { waitFor } from '../testing.ts'
import type { ConsumerMessage } from './types.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(30_000)

const { redis, pool, newStream, pendingOf, consumeOne } = useRedisStreams()

describe('deleted (nil) entries', () => {
  it('acks and counts entries trimmed away while pending on a dead consumer, when reclaiming them', async () => {
    const stream = newStream('nil-reclaim')
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    await createPublisher({ redis, stream }).publishBatch([
      userRegistered(),
      userRegistered(),
      userRegistered(),
    ])
    await redis.call('XREADGROUP', 'GROUP', 'g', 'ghost', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.xtrim(stream, 'MAXLEN', 0)
    const deleted: string[] = []
    const consumer = pool.create({
      stream,
      group: 'g',
      handler: { handle: () => {} },
      hooks: { onDeletedEntry: (info) => void deleted.push(info.streamId) },
    })
    await consumer.start()

    await waitFor(() => consumer.status().deletedEntries === 3, { message: '3 deleted entries counted' })
    expect(deleted).toHaveLength(3)
    expect(consumer.status().processed).toBe(0)
    expect(await pendingOf(stream, 'g')).toBe(0)
  })

  it('acks and counts a deleted entry met while re-reading its own pending entries at start', async () => {
    const stream = newStream('nil-history')
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    const ids = await createPublisher({ redis, stream }).publishBatch([userRegistered(), userRegistered()])
    // A previous run under the same name read both and died; one of them was then deleted.
    await redis.call('XREADGROUP', 'GROUP', 'g', 'stable-name', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.xdel(stream, ids[0] as string)
    const seen: ConsumerMessage[] = []
    const consumer = pool.create({
      stream,
      group: 'g',
      consumerName: 'stable-name',
      claimIdleMs: 60_000,
      handler: { handle: (m) => void seen.push(m) },
    })
    await consumer.start()

    await waitFor(() => seen.length === 1 && consumer.status().deletedEntries === 1, {
      message: 'history settled',
    })
    expect(seen[0]?.streamId).toBe(ids[1] as string)
    expect(seen[0]?.deliveryCount).toBe(2)
    expect(await pendingOf(stream, 'g')).toBe(0)
  })
})

describe('NOGROUP', () => {
  it('recreates the group and goes on when the stream is deleted mid-run', async () => {
    const stream = newStream('nogroup')
    const publisher = createPublisher({ redis, stream })
    const seen = new Set<string>()
    const consumer = pool.create({
      stream,
      group: 'g',
      handler: { handle: (m) => void seen.add(m.event.id) },
    })
    await consumer.start()
    const first = userRegistered()
    await publisher.publish(first)
    await waitFor(() => seen.has(first.id))

    await redis.del(stream) // what a Redis restart without persistence looks like to the consumer
    const later = [userRegistered(), userRegistered()]
    await publisher.publishBatch(later)

    await waitFor(() => later.every((e) => seen.has(e.id)), { message: 'events after the deletion handled' })
    expect(consumer.status().groupRecreations).toBeGreaterThanOrEqual(1)
    await waitFor(async () => (await pendingOf(stream, 'g')) === 0)
  })
})

/**
 * One entry handled by a consumer whose handler waits at a gate; another consumer claims the entry while the
 * handler waits (as if this one had paused past the claim idle time), then the gate opens and the handler
 * ends with `outcome`. Resolves once the zombie settle was refused.
 */
const claimedWhileHandling = async (name: string, outcome: () => void) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let started = false
  const refused: string[] = []
  const { stream, id, consumer } = await consumeOne(name, {
    claimIdleMs: 60_000,
    handler: {
      async handle() {
        started = true
        await gate
        outcome()
      },
    },
    hooks: { onZombieAckRefused: (info) => void refused.push(...info.streamIds) },
  })
  await consumer.start()
  await waitFor(() => started)
  await redis.xclaim(stream, 'g', 'intruder', 0, id)
  release()
  await waitFor(() => consumer.status().zombieAcksRefused === 1, { message: 'the refused settle' })
  const pending = (await redis.xpending(stream, 'g', '-', '+', 10)) as [string, string][]
  return { id, stream, consumer, refused, pending: pending.map(([pid, owner]) => [pid, owner]) }
}

describe('zombie acks', () => {
  it('refuses to ack an entry another consumer claimed while the handler was still running', async () => {
    const { id, refused, pending } = await claimedWhileHandling('zombie', () => {})
    expect(refused).toEqual([id])
    expect(pending).toEqual([[id, 'intruder']])
  })
})

describe('zombie dead letters', () => {
  it('does not dead-letter an entry another consumer claimed while the handler was failing it', async () => {
    const { id, stream, consumer, pending } = await claimedWhileHandling('zombie-dlq', () => {
      throw new NonRetryableError('never valid')
    })
    expect(consumer.status().deadLettered).toBe(0)
    expect(await redis.xlen(deadLetterStreamKey(stream, 'g'))).toBe(0)
    expect(pending).toEqual([[id, 'intruder']])
  })
})

describe('watchdog', () => {
  it('replaces a blocking connection whose read hangs past BLOCK + margin, and loses nothing', async () => {
    const stream = newStream('watchdog')
    const proxy = startBlackholeProxy()
    let readers = 0
    const seen: ConsumerMessage[] = []
    const consumer = pool.create({
      stream,
      group: 'g',
      blockMs: 100,
      watchdogMarginMs: 200,
      // The first blocking connection goes through the proxy; its replacement connects directly.
      connectionFactory: (role) =>
        createRedisConnection(role === 'consumer' && readers++ === 0 ? proxy.url : REDIS_URL, role),
      handler: { handle: (m) => void seen.push(m) },
    })
    try {
      await consumer.start()
      await Bun.sleep(150) // let a few reads go through the proxy
      proxy.swallowReplies()
      const event = userRegistered()
      await createPublisher({ redis, stream }).publish(event)

      // Whatever the hung read took is still pending on this consumer: it comes back (history or reclaim).
      await waitFor(
        () => seen.some((m) => m.event.id === event.id) && consumer.status().readerReconnects === 1,
        {
          message: 'the event and a replaced reader',
          timeoutMs: 5000,
        },
      )
      expect(readers).toBe(2)
      const after = userRegistered()
      await createPublisher({ redis, stream }).publish(after)
      await waitFor(() => seen.some((m) => m.event.id === after.id), {
        message: 'an event read on the new connection',
      })
      await waitFor(async () => (await pendingOf(stream, 'g')) === 0)
    } finally {
      await consumer.close()
      proxy.stop()
    }
  })
})
