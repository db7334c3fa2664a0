/**
 * Throttling per recipient × category: at most `limit` requests of a category per user in any sliding window
 * of `windowMs`, shared by every instance through Redis (one sorted set per user and category, one Lua call).
 * The decision is per request id, so every channel of one request and every redelivery of it get the same
 * answer, and a request admitted once is never counted twice.
 */
import type { RedisClient } from '@flotilla/streams'

/** A category's limit. */
export interface ThrottleLimit {
  readonly limit: number
  readonly windowMs: number
}

// KEYS[1] = the user's set for the category. ARGV = request id, limit, window ms. Redis' clock, so every
// instance agrees. Returns 1 (admitted) or 0 (over the limit).
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
return 1
`

export interface Throttle {
  /** Whether the request may go out; always true for a category without a limit. */
  admit(userId: string, category: string, requestId: string): Promise<boolean>
  /** The limit of a category, if it has one. */
  limitOf(category: string): ThrottleLimit | undefined
}

export const createThrottle = (options: {
  readonly redis: RedisClient
  /** The service's key prefix (`notifications:`). */
  readonly prefix: string
  readonly limits: Readonly<Record<string, ThrottleLimit>>
}): Throttle => {
  const limitOf = (category: string) =>
    Object.hasOwn(options.limits, category) ? options.limits[category] : undefined
  return {
    limitOf,
    async admit(userId, category, requestId) {
      const limit = limitOf(category)
      if (!limit) return true
      // The hash tag keeps one user's sets in one Redis Cluster slot.
      const key = `${options.prefix}throttle:{${userId}}:${category}`
      return (await options.redis.eval(ADMIT, 1, key, requestId, limit.limit, limit.windowMs)) === 1
    },
  }
}
