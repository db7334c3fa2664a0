import { afterEach, describe, expect, it } from 'bun:test'
import { createRedisConnection } from '@flotilla/streams'
import { deleteKeysMatching, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import type { Redis } from 'ioredis'
import { AppError } from '../errors/app-error.ts'
import { createRevocationList, type RevocationList } from './list.ts'
import { parseRevocationMessage, revocationNames } from './names.ts'
import { createRevocationWriter } from './writer.ts'

const REDIS_URL = TEST_REDIS_URL
const silent = { info() {}, warn() {} }
const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const o of open.splice(0)) await o.close()
})

const setup = (o: { subscriberUrl?: string } = {}) => {
  const stream = uniqueStreamName('revocation')
  const redis = createRedisConnection(REDIS_URL, 'request')
  const writerRedis = createRedisConnection(REDIS_URL, 'request')
  const subscribers: Redis[] = []
  const list = createRevocationList({
    redis,
    subscriber: () => {
      const s = createRedisConnection(o.subscriberUrl ?? REDIS_URL, 'subscriber')
      s.on('error', () => {})
      subscribers.push(s)
      return s
    },
    stream,
    logger: silent,
  })
  const writer = createRevocationWriter({ redis: writerRedis, stream, tokenLifetimeMs: 60_000 })
  open.push({
    async close() {
      await list.close()
      await deleteKeysMatching(writerRedis, `{${stream}}*`)
      redis.disconnect()
      writerRedis.disconnect()
    },
  })
  return { stream, redis, writerRedis, list, writer, subscribers }
}

const synced = async (list: RevocationList) => {
  list.start()
  await waitFor(() => list.synced, { message: 'the revocation list to load' })
}

const iat = () => Math.floor(Date.now() / 1000)

describe('revocation list', () => {
  it('refuses a revoked session from memory once the message arrives, without asking Redis', async () => {
    const { list, writer, redis } = setup()
    await synced(list)
    expect(await list.check({ sid: 's-1' })).toBeUndefined()
    await writer.revokeSessions(['s-1'])
    await waitFor(async () => (await list.check({ sid: 's-1' })) === 'session revoked', {
      message: 'the revocation message',
    })
    // The request-path connection is gone: a check that read Redis would now fail with 503.
    redis.disconnect()
    expect(await list.check({ sid: 's-1' })).toBe('session revoked')
    expect(await list.check({ sid: 's-2' })).toBeUndefined()
  })

  it('loads revocations written before it subscribed', async () => {
    const { list, writer } = setup()
    await writer.revokeSessions(['early'])
    await writer.revokeUserBefore('u-1', Date.now())
    await writer.retireKeys(['k-old'])
    await synced(list)
    expect(await list.check({ sid: 'early' })).toBe('session revoked')
    expect(await list.check({ sub: 'u-1', iat: iat() - 10 })).toBe('user tokens revoked')
    expect(await list.check({ kid: 'k-old' })).toBe('signing key retired')
  })

  it('refuses a user’s tokens issued in an earlier second than the revocation, not later ones', async () => {
    const { list, writer } = setup()
    await synced(list)
    const before = Date.now()
    await writer.revokeUserBefore('u-2', before)
    const second = Math.floor(before / 1000)
    await waitFor(async () => (await list.check({ sub: 'u-2', iat: second - 1 })) !== undefined)
    expect(await list.check({ sub: 'u-2', iat: second - 1 })).toBe('user tokens revoked')
    expect(await list.check({ sub: 'u-2', iat: second })).toBeUndefined()
    expect(await list.check({ sub: 'u-2', iat: second + 5 })).toBeUndefined()
    expect(await list.check({ sub: 'u-3', iat: second - 1 })).toBeUndefined()
  })

  it('tells its listeners which keys were retired', async () => {
    const { list, writer } = setup()
    const heard: string[] = []
    list.onKeysRetired((kids) => heard.push(...kids))
    await synced(list)
    await writer.retireKeys(['k-1', 'k-2'])
    await waitFor(() => heard.length === 2, { message: 'the key retirement' })
    expect(heard).toEqual(['k-1', 'k-2'])
  })

  it('reads Redis while its subscriber cannot connect, and finds what was revoked', async () => {
    const { list, writer } = setup({ subscriberUrl: 'redis://127.0.0.1:9' })
    await writer.revokeSessions(['s-x'])
    list.start()
    expect(list.synced).toBe(false)
    expect(await list.check({ sid: 's-x' })).toBe('session revoked')
    expect(await list.check({ sid: 's-y' })).toBeUndefined()
  })

  it('fails closed with 503 DEPENDENCY_UNAVAILABLE when it has not heard and Redis cannot answer', async () => {
    const { list, redis } = setup({ subscriberUrl: 'redis://127.0.0.1:9' })
    await redis.ping()
    redis.disconnect()
    list.start()
    const error = await Promise.resolve(list.check({ sid: 's-1' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).status).toBe(503)
    expect((error as AppError).code).toBe('DEPENDENCY_UNAVAILABLE')
  })

  it('reloads the sets after its subscriber reconnects, catching revocations it missed meanwhile', async () => {
    const { list, writerRedis, stream, subscribers } = setup()
    await synced(list)
    // A revocation whose message this list never hears (written without PUBLISH, as if sent while it was away).
    await writerRedis.zadd(revocationNames(stream).sets.sessions, Date.now() + 60_000, 'missed')
    expect(await list.check({ sid: 'missed' })).toBeUndefined()
    subscribers[0]?.disconnect(true)
    await waitFor(() => !list.synced, { message: 'the list to notice the lost connection' })
    await waitFor(async () => list.synced && (await list.check({ sid: 'missed' })) === 'session revoked', {
      message: 'the reload after reconnecting',
    })
  })

  it('forgets entries whose tokens have all expired (the writer prunes and expires its sets)', async () => {
    const { writer, writerRedis, stream } = setup()
    const names = revocationNames(stream)
    await writerRedis.zadd(names.sets.sessions, Date.now() - 1, 'stale')
    await writer.revokeSessions(['fresh'])
    expect(await writerRedis.zrange(names.sets.sessions, 0, -1)).toEqual(['fresh'])
    const ttl = await writerRedis.pttl(names.sets.sessions)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })
})

describe('parseRevocationMessage', () => {
  it('keeps well-formed entries of a known kind and ignores anything else', () => {
    expect(parseRevocationMessage('{"kind":"sessions","entries":[["a",1],["",2],[3,4],["b","x"]]}')).toEqual({
      kind: 'sessions',
      entries: [['a', 1]],
    })
    expect(parseRevocationMessage('{"kind":"__proto__","entries":[]}')).toBeUndefined()
    expect(parseRevocationMessage('not json')).toBeUndefined()
    expect(parseRevocationMessage('null')).toBeUndefined()
  })
})
