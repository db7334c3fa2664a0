import { describe, expect, it } from 'bun:test'
import {
  closeConnection,
  createRedisConnection,
  isCluster,
  isRedisUnavailableError,
  RedisAddressError,
  redisNodeUrls,
  whenReady,
} from './connection.ts'
import { TEST_REDIS_URL, waitFor } from './testing.ts'

const REDIS_URL = TEST_REDIS_URL

describe('request connections', () => {
  it('queue commands until the first connect, then turn the offline queue off (a later outage fails at once)', async () => {
    const redis = createRedisConnection(REDIS_URL, 'request')
    try {
      // Sent before the connection is ready: queued, answered once it is.
      expect(await redis.ping()).toBe('PONG')
      expect(redis.options.enableOfflineQueue).toBe(false)
      expect(redis.options.commandTimeout).toBe(1000)
      expect(redis.options.autoResendUnfulfilledCommands).toBe(false)
    } finally {
      redis.disconnect()
    }
  })

  it('log their errors through the given logger, so ioredis prints no unhandled-error line', async () => {
    const logged: { obj: Record<string, unknown>; msg: string }[] = []
    const redis = createRedisConnection(
      'redis://127.0.0.1:9',
      'request',
      { commandTimeout: 200 },
      { warn: (obj, msg) => logged.push({ obj, msg }) },
    )
    try {
      const error = await redis.get('x').catch((e: unknown) => e)
      expect(isRedisUnavailableError(error)).toBe(true)
      await waitFor(() => logged.length > 0, { message: 'a logged connection error' })
      expect(logged[0]).toMatchObject({
        msg: 'redis connection error',
        obj: { connection: 'flotilla-request' },
      })
    } finally {
      redis.disconnect()
    }
  })

  it('tells connection failures from a command’s own errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })
    expect(isRedisUnavailableError(refused)).toBe(true)
    expect(isRedisUnavailableError(new Error('Connection is closed.'))).toBe(true)
    expect(isRedisUnavailableError(new Error('Command timed out'))).toBe(true)
    expect(
      isRedisUnavailableError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe(false)
    expect(isRedisUnavailableError('Connection is closed.')).toBe(false)
  })

  it('whenReady says whether the connection came up, and never throws when it does not', async () => {
    const up = createRedisConnection(REDIS_URL, 'request')
    const down = createRedisConnection('redis://127.0.0.1:9', 'request', {}, { warn() {} })
    try {
      expect(await whenReady(up, 5000)).toBe(true)
      expect(await whenReady(up, 0)).toBe(true)
      expect(await whenReady(down, 100)).toBe(false)
    } finally {
      up.disconnect()
      down.disconnect()
    }
  })
})

describe('Redis addresses', () => {
  it('takes one URL, or several comma-separated nodes only for a cluster', () => {
    expect(redisNodeUrls('redis://127.0.0.1:6379').map(String)).toEqual(['redis://127.0.0.1:6379'])
    const nodes = 'redis://10.0.0.1:7000, redis://10.0.0.2:7000'
    expect(redisNodeUrls({ url: nodes, cluster: true }).map((u) => u.host)).toEqual([
      '10.0.0.1:7000',
      '10.0.0.2:7000',
    ])
    expect(() => redisNodeUrls(nodes)).toThrow(/set REDIS_CLUSTER=true/)
    expect(() => redisNodeUrls({ url: 'http://x:1', cluster: true })).toThrow(RedisAddressError)
    expect(() => redisNodeUrls({ url: 'redis://x:1/2', cluster: true })).toThrow(/database 0 only/)
    // A malformed URL is named without its credentials.
    expect(() => redisNodeUrls({ url: 'redis://u:secret@a:1,redis://u:secret@', cluster: true })).toThrow(
      /^(?!.*secret)/,
    )
  })

  it('opens an ioredis Cluster for a cluster address, one Redis otherwise, with the role options on the nodes', async () => {
    const cluster = createRedisConnection(
      { url: 'redis://127.0.0.1:9,redis://127.0.0.1:10', cluster: true },
      'producer',
      { lazyConnect: true },
    )
    const single = createRedisConnection({ url: REDIS_URL }, 'command')
    try {
      expect(isCluster(cluster)).toBe(true)
      expect(isCluster(single)).toBe(false)
      if (!isCluster(cluster)) throw new Error('not a cluster')
      expect(cluster.options.enableOfflineQueue).toBe(false)
      expect(cluster.options.redisOptions).toMatchObject({
        connectTimeout: 2000,
        connectionName: 'flotilla-producer',
      })
      expect(await single.ping()).toBe('PONG')
    } finally {
      cluster.disconnect()
      await closeConnection(single)
    }
  })

  it('counts a cluster that cannot serve as Redis being unavailable (a 503, not a 500)', () => {
    for (const message of [
      'CLUSTERDOWN The cluster is down',
      "Cluster isn't ready and enableOfflineQueue options is false",
      'Failed to refresh slots cache.',
    ])
      expect(isRedisUnavailableError(new Error(message))).toBe(true)
    expect(isRedisUnavailableError(new Error('CROSSSLOT Keys in request'))).toBe(false)
  })
})
