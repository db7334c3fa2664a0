/**
 * Outbound rate limits per provider, shared by every instance through Redis: each send reserves the
 * next free slot (GCRA-style virtual scheduling, slots `1000 / rate` ms apart) in one Lua call, then
 * waits for it. A slot further away than `maxWaitMs` is not reserved: the caller is told to come back
 * (`RetryLaterError`) instead of holding a stream entry for long.
 */

import type { RedisClient } from '@flotilla/streams'
import { RetryLaterError } from '@flotilla/streams'

// `now` from the given argument, or Redis's own clock when it is '' (one clock for every instance).
const nowFrom = (arg: number) => `
local now = tonumber(ARGV[${arg}])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`

// KEYS[1] = the provider's key. ARGV = interval ms, max wait ms, now ms ('' = Redis TIME).
// Returns { reserved (1|0), wait ms }.
const RESERVE = `${nowFrom(3)}
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
local next = tat + interval
redis.call('SET', KEYS[1], next, 'PX', math.ceil(next - now) + 1000)
return {1, wait}
`

// KEYS[1] = the provider's key. ARGV = pause ms, now ms ('' = Redis TIME). Pushes every slot past now + pause.
const PAUSE = `${nowFrom(2)}
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then redis.call('SET', KEYS[1], until_, 'PX', math.ceil(until_ - now) + 1000) end
return until_
`

export interface RateLimiterOptions {
  readonly redis: RedisClient
  /** Key prefix, e.g. `notifications:`. */
  readonly prefix: string
  /** Requests per second per provider; a provider not listed (or 0) is not limited. */
  readonly limits: Readonly<Record<string, number>>
  /** Longest wait for a slot before `RetryLaterError`. @defaultValue 10000 */
  readonly maxWaitMs?: number
  /** Tests pass a clock; production uses Redis' clock so every instance agrees. */
  readonly now?: () => number
  /** @defaultValue Bun.sleep */
  readonly sleep?: (ms: number) => Promise<void>
}

export interface RateLimiter {
  /** Reserves a slot and resolves when it comes; returns the wait. Throws `RetryLaterError` past `maxWaitMs`. */
  acquire(provider: string): Promise<number>
  /** A provider said 429: no instance sends to it for `ms`. */
  pause(provider: string, ms: number): Promise<void>
  /** Whether sends to `provider` are spaced (it has a rate). */
  limits(provider: string): boolean
}

/** Creates the shared limiter. */
export const createRateLimiter = (options: RateLimiterOptions): RateLimiter => {
  const { redis, prefix, limits } = options
  const maxWaitMs = options.maxWaitMs ?? 10_000
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms))
  const key = (provider: string) => `${prefix}ratelimit:${provider}`
  const now = () => (options.now ? String(options.now()) : '')
  return {
    limits: (provider) => (limits[provider] ?? 0) > 0,
    async acquire(provider) {
      const rate = limits[provider]
      if (!rate || rate <= 0) return 0
      const interval = Math.max(1, Math.round(1000 / rate))
      const [reserved, wait] = (await redis.eval(RESERVE, 1, key(provider), interval, maxWaitMs, now())) as [
        number,
        number,
      ]
      if (reserved !== 1)
        throw new RetryLaterError(`rate limit for ${provider}: next slot in ${wait} ms`, { delayMs: wait })
      if (wait > 0) await sleep(wait)
      return wait
    },
    async pause(provider, ms) {
      if (ms <= 0) return
      await redis.eval(PAUSE, 1, key(provider), Math.ceil(ms), now())
    },
  }
}
