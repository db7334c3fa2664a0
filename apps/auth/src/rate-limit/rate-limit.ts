/**
 * Redis-backed rate limits (rate-limiter-flexible: one atomic INCR + PEXPIRE per hit, shared by every
 * instance). Each limit has a name, a budget per window, and is keyed by client ip or user id.
 */
import type { RedisClient } from '@flotilla/streams'
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { tooManyRequests } from '../errors.ts'
import { type AuthObserver, noopObserver } from '../observe.ts'

export interface LimitSpec {
  /** Requests allowed per window. */
  readonly points: number
  /** Window length in seconds. */
  readonly windowSeconds: number
}

export type LimitName = 'refresh:ip' | 'refresh:user' | 'introspect:ip' | 'introspect:user'

/** Creates the named limits; `hit(name, key)` throws a 429 `RATE_LIMITED` with `Retry-After` when over. */
export const createRateLimits = (
  redis: RedisClient,
  prefix: string,
  specs: Record<LimitName, LimitSpec>,
  observer: AuthObserver = noopObserver,
) => {
  const limiters = new Map<LimitName, RateLimiterRedis>()
  for (const [name, spec] of Object.entries(specs) as [LimitName, LimitSpec][]) {
    limiters.set(
      name,
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}rl:${name}`,
        points: spec.points,
        duration: spec.windowSeconds,
      }),
    )
  }
  return {
    /** Counts one request against `name` for `key`. */
    async hit(name: LimitName, key: string): Promise<void> {
      const limiter = limiters.get(name)
      if (!limiter) return
      try {
        await limiter.consume(key)
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) observer.rateLimited(name)
        if (rejection instanceof RateLimiterRes)
          throw tooManyRequests(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)))
        throw rejection
      }
    },
  }
}
export type RateLimits = ReturnType<typeof createRateLimits>
