import { afterAll, describe, expect, it } from 'bun:test'
import { deleteKeysMatching, TEST_REDIS_URL } from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { createThrottle } from './throttle.ts'

const redis = new Redis(TEST_REDIS_URL)
const prefix = `test:throttle:${crypto.randomUUID().slice(0, 8)}:`
afterAll(async () => {
  await deleteKeysMatching(redis, `${prefix}*`)
  redis.disconnect()
})

describe('the throttle', () => {
  const throttle = createThrottle({ redis, prefix, limits: { promo: { limit: 2, windowMs: 60_000 } } })

  it('admits `limit` requests per user and category, and no more, counting a request once however often it asks', async () => {
    expect(await throttle.admit('u1', 'promo', 'r1')).toBe(true)
    expect(await throttle.admit('u1', 'promo', 'r1')).toBe(true)
    expect(await throttle.admit('u1', 'promo', 'r2')).toBe(true)
    expect(await throttle.admit('u1', 'promo', 'r3')).toBe(false)
    // An admitted request asking again (a redelivery, its other channel) still passes.
    expect(await throttle.admit('u1', 'promo', 'r2')).toBe(true)
    expect(await throttle.admit('u2', 'promo', 'r4')).toBe(true)
    expect(await throttle.admit('u1', 'account', 'r5')).toBe(true)
  })

  it('admits again once the window has slid past the earlier requests', async () => {
    const short = createThrottle({ redis, prefix, limits: { flash: { limit: 1, windowMs: 200 } } })
    expect(await short.admit('u1', 'flash', 'a')).toBe(true)
    expect(await short.admit('u1', 'flash', 'b')).toBe(false)
    let admitted = false
    const deadline = Date.now() + 10_000
    while (!admitted && Date.now() < deadline) {
      await Bun.sleep(50)
      admitted = await short.admit('u1', 'flash', 'b')
    }
    expect(admitted).toBe(true)
  })
})
