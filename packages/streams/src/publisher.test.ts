import { describe, expect, it } from 'bun:test'
import { ContractError } from '@flotilla/contracts'
import { createRedisConnection } from './connection.ts'
import { createPublisher, PublishError } from './publisher.ts'
import { REDIS_URL, useRedisStreams, userRegistered } from './test-support.ts'

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

  it('caps the stream approximately when maxLenApprox is set', async () => {
    const stream = newStream('capped')
    const publisher = createPublisher({ redis, stream, maxLenApprox: 100 })
    for (let i = 0; i < 5; i++)
      await publisher.publishBatch(Array.from({ length: 200 }, () => userRegistered()))
    expect(await redis.xlen(stream)).toBeLessThan(1000)
  })
})
