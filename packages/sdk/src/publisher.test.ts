import { afterEach, describe, expect, it } from 'bun:test'
import { type AnyEvent, ContractError, decodeEntry } from '@flotilla/contracts'
import { closeConnection, createPublisher, createRedisConnection, PublishError } from '@flotilla/streams'
import { cleanupStream, uniqueStreamName } from '@flotilla/streams/testing'
import type { Socket } from 'bun'
import type { Redis } from 'ioredis'
import { createEventPublisher } from './publisher.ts'

const REDIS_PORT = 6379
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A TCP proxy in front of the real Redis that can lose the reply to the next XADD and drop the connection:
 * the entry is appended, but the producer only sees an error (the classic duplicate-append case).
 */
const startLossyProxy = () => {
  let loseNextXaddReply = false
  const server = Bun.listen<{ upstream?: Socket<undefined>; pending: Uint8Array[]; armed: boolean }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        client.data = { pending: [], armed: false }
        client.data.upstream = await Bun.connect({
          hostname: '127.0.0.1',
          port: REDIS_PORT,
          socket: {
            data(_upstream, chunk) {
              if (client.data.armed) {
                client.data.armed = false
                client.terminate()
                return
              }
              client.write(chunk)
            },
            close() {
              client.end()
            },
          },
        })
        for (const chunk of client.data.pending.splice(0)) client.data.upstream.write(chunk)
      },
      data(client, chunk) {
        if (loseNextXaddReply && /xadd/i.test(Buffer.from(chunk).toString('latin1'))) {
          loseNextXaddReply = false
          client.data.armed = true
        }
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.pending.push(new Uint8Array(chunk))
      },
      close(client) {
        client.data.upstream?.end()
      },
    },
  })
  return {
    port: server.port,
    loseNextXaddReply: () => {
      loseNextXaddReply = true
    },
    stop: () => server.stop(true),
  }
}

const readStream = async (redis: Redis, stream: string): Promise<AnyEvent[]> =>
  (await redis.xrange(stream, '-', '+')).map(([, fields]) => {
    const decoded = decodeEntry(fields)
    if (!decoded.ok) throw decoded.error
    return decoded.event
  })

describe('event publisher', () => {
  it('retries a publish whose reply was lost with the same event id, so consumers can drop the duplicate', async () => {
    const proxy = startLossyProxy()
    cleanups.push(proxy.stop)
    const stream = uniqueStreamName('sdk-publisher')
    const direct = createRedisConnection(`redis://127.0.0.1:${REDIS_PORT}`, 'command')
    cleanups.push(async () => {
      await cleanupStream(direct, stream)
      await closeConnection(direct)
    })
    // A short command timeout: the lost reply shows up as a timeout, as it would behind a flaky network.
    const redis = createRedisConnection(`redis://127.0.0.1:${proxy.port}`, 'producer', {
      commandTimeout: 300,
    })
    redis.on('error', () => {})
    cleanups.push(() => closeConnection(redis))
    const retries: number[] = []
    const events = createEventPublisher({
      publisher: createPublisher({ redis, stream }),
      source: 'monolith',
      retries: 6,
      onRetry: (_event, attempt) => retries.push(attempt),
    })

    proxy.loseNextXaddReply()
    const published = await events.emit('user.password.changed', { userId: 'u_1', reason: 'change' })

    expect(retries.length).toBeGreaterThanOrEqual(1)
    const onStream = await readStream(direct, stream)
    // Appended twice (once unacknowledged), both times as the same event.
    expect(onStream).toHaveLength(2)
    expect(onStream.map((e) => e.id)).toEqual([published.id, published.id])
    expect(onStream[1]).toEqual(onStream[0]!)
    expect(onStream[0]?.source).toBe('monolith')
  })

  it('fails with PublishError after its bounded retries when Redis is down', async () => {
    // A port nothing listens on.
    const closed = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = closed.port
    closed.stop(true)
    const redis = createRedisConnection(`redis://127.0.0.1:${port}`, 'producer', { lazyConnect: true })
    redis.on('error', () => {})
    cleanups.push(() => closeConnection(redis))
    const attempts: number[] = []
    const events = createEventPublisher({
      publisher: createPublisher({ redis, stream: 'unused', connectWaitMs: 100 }),
      source: 'monolith',
      retries: 2,
      onRetry: (_event, attempt) => attempts.push(attempt),
    })
    await expect(events.emitCustom('order.placed', { orderId: 'o_1' })).rejects.toBeInstanceOf(PublishError)
    expect(attempts).toEqual([1, 2])
  })

  it('does not retry an event that breaks the contract', async () => {
    const redis = createRedisConnection(`redis://127.0.0.1:${REDIS_PORT}`, 'producer', { lazyConnect: true })
    cleanups.push(() => closeConnection(redis))
    let retried = false
    const events = createEventPublisher({
      publisher: createPublisher({ redis, stream: 'unused' }),
      source: 'monolith',
      onRetry: () => {
        retried = true
      },
    })
    await expect(events.emitCustom('Not A Valid Type', { a: 1 })).rejects.toBeInstanceOf(ContractError)
    expect(retried).toBe(false)
  })

  it('builds events with the publisher source and the caller’s correlation and trace context', () => {
    const redis = createRedisConnection(`redis://127.0.0.1:${REDIS_PORT}`, 'producer', { lazyConnect: true })
    cleanups.push(() => closeConnection(redis))
    const events = createEventPublisher({
      publisher: createPublisher({ redis, stream: 'unused' }),
      source: 'shop',
    })
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const event = events.buildCustom(
      'order.placed',
      { orderId: 'o_1' },
      { correlationId: 'c_1', traceparent },
    )
    expect(event).toMatchObject({
      type: 'order.placed',
      version: 1,
      source: 'shop',
      correlationId: 'c_1',
      traceparent,
    })
  })
})
