import { describe, expect, it } from 'bun:test'
import { createRedisConnection, isRedisUnavailableError, whenReady } from './connection.ts'
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
