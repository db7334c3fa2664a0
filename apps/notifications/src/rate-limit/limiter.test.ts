import { afterAll, describe, expect, it } from 'bun:test'
import { RetryLaterError } from '@flotilla/streams'
import { Redis } from 'ioredis'
import { createRateLimiter } from './limiter.ts'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const prefix = `test:notifications:limiter:${crypto.randomUUID().slice(0, 8)}:`

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

describe('the shared outbound rate limiter', () => {
  it('spaces requests from two instances 1000 / rate ms apart on one shared schedule', async () => {
    const clock = 1_000_000
    const waits: number[] = []
    const instance = () =>
      createRateLimiter({
        redis,
        prefix,
        limits: { resend: 2 },
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms)
        },
      })
    const [a, b] = [instance(), instance()]
    const order = [a, b, a, b, a]
    const results: number[] = []
    for (const limiter of order) results.push(await limiter.acquire('resend'))
    expect(results).toEqual([0, 500, 1000, 1500, 2000])
    expect(waits).toEqual([500, 1000, 1500, 2000])
  })

  it('refuses a slot further than maxWaitMs with RetryLaterError carrying the wait, without reserving it', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${prefix}far:`,
      limits: { twilio: 1 },
      maxWaitMs: 1500,
      now: () => 5_000,
      sleep: async () => {},
    })
    expect(await limiter.acquire('twilio')).toBe(0)
    expect(await limiter.acquire('twilio')).toBe(1000)
    const refused = await limiter.acquire('twilio').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(RetryLaterError)
    expect((refused as RetryLaterError).delayMs).toBe(2000)
    // Still the same next slot: the refusal reserved nothing.
    const again = await limiter.acquire('twilio').catch((error: unknown) => error)
    expect((again as RetryLaterError).delayMs).toBe(2000)
  })

  it('pushes every instance past a provider 429 pause', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${prefix}pause:`,
      limits: { resend: 10 },
      now: () => 10_000,
      sleep: async () => {},
    })
    await limiter.pause('resend', 3000)
    expect(await limiter.acquire('resend')).toBe(3000)
  })

  it('does not limit providers without a rate (the outbox)', async () => {
    const limiter = createRateLimiter({ redis, prefix: `${prefix}none:`, limits: { resend: 2 } })
    expect(await limiter.acquire('outbox')).toBe(0)
    expect(await redis.exists(`${prefix}none:ratelimit:outbox`)).toBe(0)
  })
})
