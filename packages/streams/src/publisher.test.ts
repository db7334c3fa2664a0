import { describe, expect, it } from 'bun:test'
import { ContractError } from '@flotilla/contracts'
import { closeConnection, createRedisConnection, isRedisUnavailableError } from './connection.ts'
import { createPublisher, PublishError } from './publisher.ts'
import { REDIS_URL, startBlackholeProxy, useRedisStreams, userRegistered } from './test-support.ts'

const { redis, newStream } = useRedisStreams()

describe('createPublisher', () => {
  it('appends the two wire fields and returns stream ids in order', async () => {
    const stream = newStream('pub')
    const producer = createRedisConnection(REDIS_URL, 'producer')
    try {
      const events = [userRegistered(), userRegistered(), userRegistered()]
      const publisher = createPublisher({ redis: producer, stream })
      const ids = await publisher.publishBatch(events)
      const single = await publisher.publish(userRegistered('u_single'))
      const entries = await redis.xrange(stream, '-', '+')
      expect(entries.map(([id]) => id)).toEqual([...ids, single])
      expect(entries[0]?.[1]).toEqual(['type', 'user.registered', 'event', JSON.stringify(events[0])])
    } finally {
      producer.disconnect()
    }
  })

  it('publishes a burst sent before the first connect, sharing one wait for it', async () => {
    const stream = newStream('burst')
    const producer = createRedisConnection(REDIS_URL, 'producer', { lazyConnect: true })
    try {
      const publisher = createPublisher({ redis: producer, stream })
      const pending = Array.from({ length: 50 }, (_, i) => publisher.publish(userRegistered(`u_${i}`)))
      // One ready and one error listener for the whole burst (Node warns past 10 per event).
      expect(producer.listenerCount('ready')).toBeLessThanOrEqual(2)
      expect(producer.listenerCount('error')).toBeLessThanOrEqual(2)
      expect(new Set(await Promise.all(pending)).size).toBe(50)
      expect(await redis.xlen(stream)).toBe(50)
    } finally {
      producer.disconnect()
    }
  })

  it('refuses an invalid event with a ContractError and appends nothing', async () => {
    const stream = newStream('invalid')
    const publisher = createPublisher({ redis, stream })
    const bad = { ...userRegistered(), payload: { email: 'not-an-email' } }
    await expect(publisher.publish(bad)).rejects.toBeInstanceOf(ContractError)
    await expect(publisher.publishBatch([userRegistered(), bad])).rejects.toBeInstanceOf(ContractError)
    expect(await redis.exists(stream)).toBe(0)
  })

  it('fails fast when Redis is unreachable instead of queueing the event', async () => {
    const producer = createRedisConnection('redis://127.0.0.1:1', 'producer')
    producer.on('error', () => {})
    try {
      const publisher = createPublisher({ redis: producer, stream: newStream('down') })
      await expect(publisher.publish(userRegistered())).rejects.toBeInstanceOf(PublishError)
      await expect(publisher.publishBatch([userRegistered()])).rejects.toBeInstanceOf(PublishError)
    } finally {
      producer.disconnect()
    }
  })

  it('fails publishes whose round trip gets no reply within timeoutMs, as Redis being unavailable', async () => {
    const proxy = startBlackholeProxy()
    const producer = createRedisConnection(proxy.url, 'producer')
    producer.on('error', () => {})
    try {
      const publisher = createPublisher({ redis: producer, stream: newStream('hung'), timeoutMs: 200 })
      await publisher.publish(userRegistered())
      proxy.swallowReplies()
      const tick = await Promise.allSettled([
        publisher.publish(userRegistered()),
        publisher.publish(userRegistered()),
      ])
      const batch = await publisher.publishBatch([userRegistered()]).catch((error: unknown) => error)
      for (const error of [...tick.map((r) => (r as PromiseRejectedResult).reason), batch]) {
        expect(error).toBeInstanceOf(PublishError)
        expect(isRedisUnavailableError((error as PublishError).cause)).toBe(true)
      }
    } finally {
      await closeConnection(producer)
      proxy.stop()
    }
  })

  it('caps the stream approximately when maxLenApprox is set', async () => {
    const stream = newStream('capped')
    const publisher = createPublisher({ redis, stream, maxLenApprox: 100 })
    for (let i = 0; i < 5; i++)
      await publisher.publishBatch(Array.from({ length: 200 }, () => userRegistered()))
    expect(await redis.xlen(stream)).toBeLessThan(1000)
  })

  it('sends publishes of one tick together, each resolving to its own id, in call order', async () => {
    const stream = newStream('tick')
    const publisher = createPublisher({ redis, stream })
    const events = Array.from({ length: 1200 }, (_, i) => userRegistered(`u_tick_${i}`))
    const ids = await Promise.all(events.map((e) => publisher.publish(e)))
    expect(new Set(ids).size).toBe(events.length)
    const entries = await redis.xrange(stream, '-', '+')
    expect(entries.map(([id]) => id)).toEqual(ids)
    expect(entries.map(([, fields]) => fields[3])).toEqual(events.map((e) => JSON.stringify(e)))
  })

  it('rejects an invalid event of a tick alone; the others of the tick are appended', async () => {
    const stream = newStream('tick-invalid')
    const publisher = createPublisher({ redis, stream })
    const bad = { ...userRegistered(), payload: { email: 'not-an-email' } }
    const [first, invalid, last] = await Promise.allSettled([
      publisher.publish(userRegistered('u_first')),
      publisher.publish(bad),
      publisher.publish(userRegistered('u_last')),
    ])
    expect(invalid.status).toBe('rejected')
    expect((invalid as PromiseRejectedResult).reason).toBeInstanceOf(ContractError)
    const appended = (await redis.xrange(stream, '-', '+')).map(([id, fields]) => [
      id,
      JSON.parse(fields[3]!).payload.userId,
    ])
    expect(appended).toEqual([
      [(first as PromiseFulfilledResult<string>).value, 'u_first'],
      [(last as PromiseFulfilledResult<string>).value, 'u_last'],
    ])
  })

  it('rejects every publish of a tick with a PublishError when Redis refuses the append', async () => {
    const key = newStream('not-a-stream')
    await redis.set(key, 'a string, not a stream')
    const publisher = createPublisher({ redis, stream: key })
    const results = await Promise.allSettled([
      publisher.publish(userRegistered()),
      publisher.publish(userRegistered()),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(PublishError)
      expect(String((result as PromiseRejectedResult).reason.cause)).toContain('WRONGTYPE')
    }
    const alone = publisher.publish(userRegistered())
    await expect(alone).rejects.toBeInstanceOf(PublishError)
  })

  it('caps the stream when publishes of one tick are appended together', async () => {
    const stream = newStream('capped-tick')
    const publisher = createPublisher({ redis, stream, maxLenApprox: 100 })
    for (let i = 0; i < 5; i++)
      await Promise.all(Array.from({ length: 200 }, () => publisher.publish(userRegistered())))
    expect(await redis.xlen(stream)).toBeLessThan(1000)
  })
})
