/**
 * Redis-backed fixed-window rate limits, shared by every instance. Each hit is one small Lua script (EVALSHA):
 * INCR, the window's expiry set by the hit that opens it, and its remaining time read only once over budget.
 * Keys are `<prefix>rl:<name>:<key>`, as rate-limiter-flexible named them, so counters survive the switch.
 */
import type { RedisClient } from '@flotilla/streams'
import { tooManyRequests } from '../errors.ts'
import { type AuthObserver, noopObserver } from '../observe.ts'

export interface LimitSpec {
  /** Requests allowed per window. */
  readonly points: number
  /** Window length in seconds. */
  readonly windowSeconds: number
}

export type LimitName = 'refresh:ip' | 'refresh:user' | 'introspect:ip' | 'introspect:user'

/**
 * Lua: counts one hit on a limit and answers 0 within budget, else the ms until its window ends. A counter
 * left without an expiry (it cannot happen here, but a stuck key must never block forever) gets one.
 */
export const HIT_FUNCTION = `local function hit(key, windowMs, points)
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, windowMs) end
  if n <= tonumber(points) then return 0 end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, windowMs) ttl = tonumber(windowMs) end
  return ttl
end
`

const HIT_COMMAND = 'flotillaRateLimitHit'

/** One limit applied to one key: what a script needs to count it. */
export interface LimitHit {
  readonly key: string
  readonly windowMs: number
  readonly points: number
}

/** Creates the named limits; `hit(name, key)` throws a 429 `RATE_LIMITED` with `Retry-After` when over. */
export const createRateLimits = (
  redis: RedisClient,
  prefix: string,
  specs: Record<LimitName, LimitSpec>,
  observer: AuthObserver = noopObserver,
) => {
  // ioredis sends EVALSHA and falls back to EVAL once when the script cache is empty (after a restart too).
  redis.defineCommand(HIT_COMMAND, {
    numberOfKeys: 1,
    lua: `${HIT_FUNCTION}return hit(KEYS[1], ARGV[1], ARGV[2])`,
  })
  const send = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<number>>)[
    HIT_COMMAND
  ]!.bind(redis)
  const limits = {
    /** The limit `name` for `key`, for a script that counts it alongside other work (undefined: no limit). */
    of(name: LimitName, key: string): LimitHit | undefined {
      const spec = specs[name]
      if (!spec) return undefined
      return { key: `${prefix}rl:${name}:${key}`, windowMs: spec.windowSeconds * 1000, points: spec.points }
    },
    /** Turns a script's answer (0, or the ms left in the window) into nothing or a 429. */
    settle(name: LimitName, retryAfterMs: number): void {
      if (retryAfterMs <= 0) return
      observer.rateLimited(name)
      throw tooManyRequests(Math.max(1, Math.ceil(retryAfterMs / 1000)))
    },
    /** Counts one request against `name` for `key`. */
    async hit(name: LimitName, key: string): Promise<void> {
      const limit = limits.of(name, key)
      if (!limit) return
      limits.settle(name, Number(await send(limit.key, limit.windowMs, limit.points)))
    },
  }
  return limits
}
export type RateLimits = ReturnType<typeof createRateLimits>
