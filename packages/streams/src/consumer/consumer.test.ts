import { describe, expect, it, setDefaultTimeout, spyOn } from 'bun:test'
import { createPublisher } from '../publisher.ts'
import { useRedisStreams, userRegistered } from '../test-support.ts'
import { waitFor } from '../testing.ts'
import * as decode from './decode.ts'
import type { ConsumerMessage } from './types.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(30_000)

const { redis, pool, newStream, pendingOf } = useRedisStreams()

describe('consume', () => {
  it('delivers published events to a group handler exactly as they were published, then acks them', async () => {
    const stream = newStream('roundtrip')
    const events = Array.from({ length: 25 }, () => userRegistered())
    const seen: ConsumerMessage[] = []
    const consumer = pool.create({ stream, group: 'g', handler: { handle: (m) => void seen.push(m) } })
    await consumer.start()
    const ids = await createPublisher({ redis, stream }).publishBatch(events)

    await waitFor(() => seen.length === events.length, { message: 'all events handled' })
    expect(seen.map((m) => m.event).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [...events].sort((a, b) => a.id.localeCompare(b.id)),
    )
    expect(seen.map((m) => m.streamId).sort()).toEqual([...ids].sort())
    expect(seen.every((m) => m.known && m.deliveryCount === 1 && m.group === 'g')).toBe(true)
    await waitFor(async () => (await pendingOf(stream, 'g')) === 0, { message: 'no pending entries' })
    expect(consumer.status()).toMatchObject({ processed: 25, failed: 0, state: 'running' })
  })

  it('consumes a raw XADD in the documented wire format (as redis-cli would send it)', async () => {
    const stream = newStream('raw')
    const json =
      '{"id":"0192f0c8-6b1e-7a3c-9d4e-5f6a7b8c9d0e","type":"user.registered","version":1,"source":"monolith","occurredAt":"2026-11-27T10:00:00.000Z","payload":{"userId":"u_42","email":"ada@example.com"}}'
    await redis.call('XADD', stream, '*', 'type', 'user.registered', 'event', json)
    const seen: ConsumerMessage[] = []
    const consumer = pool.create({ stream, group: 'audit', handler: { handle: (m) => void seen.push(m) } })
    await consumer.start()

    await waitFor(() => seen.length === 1, { message: 'the raw entry handled' })
    const [message] = seen
    expect(message?.known).toBe(true)
    if (message?.known && message.event.type === 'user.registered') {
      expect(message.event.payload.userId).toBe('u_42')
    } else {
      throw new Error('expected a known user.registered event')
    }
  })

  it('runs a batch handler once per batch and retries only the ids it reports as failed', async () => {
    const stream = newStream('batch')
    const events = Array.from({ length: 10 }, () => userRegistered())
    await createPublisher({ redis, stream }).publishBatch(events)
    const calls: number[] = []
    const failOnce = new Set([events[3]?.id])
    const handled = new Set<string>()
    const consumer = pool.create({
      stream,
      group: 'g',
      batchSize: 50,
      handler: {
        handleBatch(messages) {
          calls.push(messages.length)
          const failures = new Map<string, Error>()
          for (const m of messages) {
            if (failOnce.delete(m.event.id)) failures.set(m.streamId, new Error('transient'))
            else handled.add(m.event.id)
          }
          return failures
        },
      },
    })
    await consumer.start()

    await waitFor(() => handled.size === 10, { message: 'every event handled' })
    expect(calls[0]).toBe(10)
    expect(calls.slice(1)).toEqual([1])
    expect(consumer.status()).toMatchObject({ processed: 10, failed: 1, retried: 1, deadLettered: 0 })
  })
})

describe('prefetch', () => {
  it('decodes the next batch while a handler awaits, and still hands the batches over one at a time, in order, acking each after its handler', async () => {
    const stream = newStream('decodeahead')
    const events = Array.from({ length: 10 }, () => userRegistered())
    await createPublisher({ redis, stream }).publishBatch(events)
    const decodeNewEntries = decode.decodeNewEntries
    const log: string[] = []
    const decoded = () => log.filter((line) => line.startsWith('decoded')).length
    const spy = spyOn(decode, 'decodeNewEntries').mockImplementation((group, entries) => {
      if (entries.ids.length > 0) log.push(`decoded ${entries.ids.length}`)
      return decodeNewEntries(group, entries)
    })
    try {
      const batches: string[][] = []
      const consumer = pool.create({
        stream,
        group: 'g',
        batchSize: 5,
        // Room for a slow machine: the first handler's wait must not count as a timeout or a stale entry.
        claimIdleMs: 30_000,
        handler: {
          async handleBatch(messages) {
            const call = batches.push(messages.map((m) => m.event.id))
            log.push(`handler ${call} started`)
            // The first handler waits (as for I/O) until the batch read meanwhile has been decoded.
            if (call === 1)
              await waitFor(() => decoded() === 2, { message: 'the next batch decoded' }).catch(() => {})
            log.push(`handler ${call} pending ${await pendingOf(stream, 'g')}`)
          },
        },
      })
      await consumer.start()

      await waitFor(() => consumer.status().processed === 10, { message: 'every event handled' })
      expect(log).toEqual([
        'decoded 5',
        'handler 1 started',
        'decoded 5',
        'handler 1 pending 10',
        'handler 2 started',
        'handler 2 pending 5',
      ])
      expect(batches).toEqual([events.slice(0, 5).map((e) => e.id), events.slice(5).map((e) => e.id)])
      await waitFor(async () => (await pendingOf(stream, 'g')) === 0, { message: 'every entry acked' })
    } finally {
      spy.mockRestore()
    }
  })
})

describe('close', () => {
  it('waits for in-flight handlers mid-batch and leaves nothing pending of its own', async () => {
    const stream = newStream('close')
    await createPublisher({ redis, stream }).publishBatch(Array.from({ length: 8 }, () => userRegistered()))
    let started = 0
    let finished = 0
    const consumer = pool.create({
      stream,
      group: 'g',
      concurrency: 4,
      handler: {
        async handle() {
          started++
          await Bun.sleep(150)
          finished++
        },
      },
    })
    await consumer.start()
    await waitFor(() => started > 0, { message: 'a handler to start' })

    await consumer.close()
    expect(finished).toBe(started)
    expect(consumer.status().state).toBe('closed')
    expect(consumer.status().inFlight).toBe(0)
    const own = await redis.xpending(stream, 'g', '-', '+', 100, consumer.name)
    expect(own).toEqual([])
  })

  it('returns the same promise when called twice and closes once', async () => {
    const stream = newStream('close2')
    const consumer = pool.create({ stream, group: 'g', handler: { handle() {} } })
    await consumer.start()
    const first = consumer.close()
    const second = consumer.close()
    expect(second).toBe(first)
    await Promise.all([first, second])
    expect(consumer.status().state).toBe('closed')
  })

  it('removes its consumer from the group on close when it owns nothing pending', async () => {
    const stream = newStream('delconsumer')
    await createPublisher({ redis, stream }).publish(userRegistered())
    const consumer = pool.create({ stream, group: 'g', handler: { handle() {} } })
    await consumer.start()
    await waitFor(() => consumer.status().processed === 1)
    await consumer.close()
    const consumers = (await redis.xinfo('CONSUMERS', stream, 'g')) as unknown[]
    expect(consumers).toEqual([])
  })
})

describe('reclaiming', () => {
  it("leaves another consumer's pending entry alone until it has been idle for claimIdleMs, then takes it over", async () => {
    const stream = newStream('claimidle')
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    await createPublisher({ redis, stream }).publish(userRegistered())
    await redis.call('XREADGROUP', 'GROUP', 'g', 'ghost', 'COUNT', 1, 'STREAMS', stream, '>')
    const readAt = Date.now()
    const seen: { at: number; deliveryCount: number }[] = []
    const consumer = pool.create({
      stream,
      group: 'g',
      claimIdleMs: 800,
      handler: { handle: (m) => void seen.push({ at: Date.now(), deliveryCount: m.deliveryCount }) },
    })
    await consumer.start()

    await waitFor(() => seen.length === 1, { message: 'the reclaimed entry' })
    expect(seen[0]?.deliveryCount).toBe(2)
    // Redis measures idle time from its own delivery clock: allow a few ms of skew against ours.
    expect((seen[0]?.at ?? 0) - readAt).toBeGreaterThanOrEqual(790)
    expect(consumer.status().reclaimed).toBe(1)
  })
})

describe('close timeout', () => {
  it('gives up on a hung handler after closeTimeoutMs and keeps the consumer and its pending entry for others', async () => {
    const stream = newStream('closetimeout')
    const [id] = await createPublisher({ redis, stream }).publishBatch([userRegistered()])
    let started = false
    const consumer = pool.create({
      stream,
      group: 'g',
      closeTimeoutMs: 200,
      handler: {
        handle: async () => {
          started = true
          await new Promise(() => {}) // never settles
        },
      },
    })
    await consumer.start()
    await waitFor(() => started)
    await consumer.close()

    expect(consumer.status().state).toBe('closed')
    const own = (await redis.xpending(stream, 'g', '-', '+', 10, consumer.name)) as [string][]
    expect(own.map(([pid]) => pid)).toEqual([id as string])
    const names = ((await redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((c) => c[1])
    expect(names).toEqual([consumer.name])
  })
})

describe('consumer pruning', () => {
  it('removes other consumers idle past pruneConsumersIdleMs with nothing pending, and keeps one that owns entries', async () => {
    const stream = newStream('prune')
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    await createPublisher({ redis, stream }).publish(userRegistered())
    await redis.call('XGROUP', 'CREATECONSUMER', stream, 'g', 'crashed-empty')
    await redis.call('XREADGROUP', 'GROUP', 'g', 'crashed-owner', 'COUNT', 1, 'STREAMS', stream, '>')
    const consumer = pool.create({
      stream,
      group: 'g',
      claimIdleMs: 60_000,
      pruneConsumersIdleMs: 200,
      handler: { handle() {} },
    })
    await consumer.start()

    const names = async () =>
      ((await redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((c) => String(c[1])).sort()
    await waitFor(async () => !(await names()).includes('crashed-empty'), {
      message: 'the empty consumer removed',
    })
    expect(await names()).toEqual([consumer.name, 'crashed-owner'].sort())
  })
})

describe('sharing a group', () => {
  it('splits work between two consumers, retries transient failures, and ends with every event handled and nothing pending', async () => {
    const stream = newStream('shared')
    const events = Array.from({ length: 500 }, () => userRegistered())
    const handled = new Map<string, number>()
    const flaky = new Set(events.filter((_, i) => i % 7 === 0).map((e) => e.id))
    const handler = {
      handle(m: ConsumerMessage) {
        if (flaky.delete(m.event.id)) throw new Error('transient')
        handled.set(m.event.id, (handled.get(m.event.id) ?? 0) + 1)
      },
    }
    const a = pool.create({ stream, group: 'g', batchSize: 20, handler })
    const b = pool.create({ stream, group: 'g', batchSize: 20, handler })
    await Promise.all([a.start(), b.start()])
    await createPublisher({ redis, stream }).publishBatch(events)

    await waitFor(() => handled.size === events.length, { message: 'every event', timeoutMs: 20_000 })
    await waitFor(async () => (await pendingOf(stream, 'g')) === 0, { message: 'nothing pending' })
    expect(a.status().processed).toBeGreaterThan(0)
    expect(b.status().processed).toBeGreaterThan(0)
    expect(a.status().retried + b.status().retried).toBe(Math.ceil(events.length / 7))
    expect(a.status().deadLettered + b.status().deadLettered).toBe(0)
  })
})
