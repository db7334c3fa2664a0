/** Shared setup for this package's own tests (not exported): a Redis URL, events, a consumer factory. */
import { afterAll, afterEach } from 'bun:test'
import { join } from 'node:path'
import { createEvent } from '@flotilla/contracts'
import type { Socket } from 'bun'
import type { Redis } from 'ioredis'
import { createRedisConnection } from './connection.ts'
import { createConsumer } from './consumer/consumer.ts'
import type { ConnectionFactory, Consumer, ConsumerOptions } from './consumer/types.ts'
import { createPublisher } from './publisher.ts'
import { bunCommand, cleanupStream, TEST_REDIS_URL, testProcessEnv, uniqueStreamName } from './testing.ts'

export const REDIS_URL = TEST_REDIS_URL

let counter = 0
/** A valid `user.registered` event with a fresh id. */
export const userRegistered = (userId = `u_${++counter}`) =>
  createEvent('user.registered', { userId, email: `${userId}@example.com` }, { source: 'monolith' })

/** Consumer options for tests: `redisUrl` defaults to the local Redis unless a `connectionFactory` is given. */
export type TestConsumerOptions = Omit<Extract<ConsumerOptions, { redisUrl: unknown }>, 'redisUrl'> & {
  readonly connectionFactory?: ConnectionFactory
}

/** Creates consumers with fast test timings and closes them all in `afterEach`. */
export const consumerPool = () => {
  const consumers: Consumer[] = []
  return {
    create({ connectionFactory, ...options }: TestConsumerOptions) {
      const consumer = createConsumer({
        blockMs: 100,
        claimIdleMs: 300,
        backoff: { baseMs: 20, maxMs: 100 },
        closeTimeoutMs: 5000,
        ...options,
        ...(connectionFactory ? { connectionFactory } : { redisUrl: REDIS_URL }),
      })
      consumers.push(consumer)
      return consumer
    },
    closeAll: () => Promise.all(consumers.splice(0).map((c) => c.close())),
  }
}

/** One command connection for a test file, quit after the file. */
export const useRedisConnection = (): Redis => {
  const redis = createRedisConnection(REDIS_URL, 'command')
  afterAll(() => redis.quit())
  return redis
}

/**
 * How many entries a group holds delivered and not yet acked (XPENDING's count); with `consumer`, how many of
 * them that consumer holds (up to 1000; 0 once the stream is gone).
 */
const pendingCount = async (
  redis: Redis,
  stream: string,
  group: string,
  consumer?: string,
): Promise<number> =>
  consumer === undefined
    ? Number(((await redis.xpending(stream, group)) as [number])[0])
    : ((await redis.xpending(stream, group, '-', '+', 1000, consumer).catch(() => [])) as unknown[]).length

/**
 * The hooks every Redis test file here needs: one command connection (quit after the file), unique
 * streams (deleted with their dead letters after each test), a consumer pool (closed after each test) and a
 * pending count.
 */
export const useRedisStreams = () => {
  const redis = useRedisConnection()
  const streams: string[] = []
  const pool = consumerPool()
  afterEach(async () => {
    await pool.closeAll()
    for (const stream of streams.splice(0)) await cleanupStream(redis, stream)
  })
  /** A stream name of its own, cleaned up after the test. */
  const newStream = (prefix: string) => {
    const stream = uniqueStreamName(prefix)
    streams.push(stream)
    return stream
  }
  /** Entries of `group` on `stream` delivered and not yet acked (with `consumer`: held by that consumer). */
  const pendingOf = (stream: string, group: string, consumer?: string) =>
    pendingCount(redis, stream, group, consumer)
  /**
   * A stream of its own holding one published `user.registered` event, and a consumer of group `g` on it
   * (not started yet) with the given handler and options.
   */
  const consumeOne = async (prefix: string, options: Omit<TestConsumerOptions, 'stream' | 'group'>) => {
    const stream = newStream(prefix)
    const event = userRegistered()
    const [id] = await createPublisher({ redis, stream }).publishBatch([event])
    const consumer = pool.create({ stream, group: 'g', ...options })
    return { stream, event, id: id as string, consumer }
  }
  return { redis, pool, newStream, pendingOf, consumeOne }
}

/**
 * Starts `test-fixtures/<fixture>.ts` in its own process on group `g` of `stream`, with the local Redis, the test
 * environment and its stderr shown: `bun <fixture> <redisUrl> <stream> g ...args`.
 */
export const spawnConsumerFixture = <const Out extends 'pipe' | 'ignore'>(
  fixture: string,
  stream: string,
  args: readonly string[],
  stdout: Out,
) =>
  Bun.spawn(
    bunCommand(join(import.meta.dir, 'test-fixtures', `${fixture}.ts`), REDIS_URL, stream, 'g', ...args),
    {
      env: testProcessEnv(),
      stdout,
      stderr: 'inherit',
    },
  )

/** A TCP proxy to Redis that can swallow replies: a connection that looks alive but never answers. */
export const startBlackholeProxy = () => {
  let swallow = false
  const server = Bun.listen<{ upstream?: Socket<undefined>; queued: Uint8Array[] }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        client.data = { queued: [] }
        const redis = new URL(REDIS_URL)
        const upstream = await Bun.connect({
          hostname: redis.hostname,
          port: Number(redis.port || 6379),
          socket: {
            data: (_socket, chunk) => {
              if (!swallow) client.write(chunk)
            },
            close: () => {
              client.end()
            },
          },
        })
        client.data.upstream = upstream
        for (const chunk of client.data.queued) upstream.write(chunk)
      },
      data(client, chunk) {
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.queued.push(chunk)
      },
      close(client) {
        client.data.upstream?.end()
      },
    },
  })
  return {
    url: `redis://127.0.0.1:${server.port}`,
    swallowReplies: () => {
      swallow = true
    },
    stop: () => server.stop(true),
  }
}
