/** Keeps an app started by a deploy test off everyone else's keys: its own stream, key prefixes, and cleanup. */
import type { createRedisConnection } from '@flotilla/streams'

type Redis = ReturnType<typeof createRedisConnection>

/** Environment that points every app's Redis keys under `run` (a unique stream name). */
export const isolatedEnv = (run: string): Record<string, string> => ({
  EVENTS_STREAM: run,
  AUTH_REDIS_PREFIX: `${run}:auth:`,
  AUDIT_REDIS_PREFIX: `${run}:audit:`,
  ANALYTICS_REDIS_PREFIX: `${run}:analytics`,
  NOTIFICATIONS_REDIS_PREFIX: `${run}:notifications:`,
})

/** Deletes every key whose name contains `run` (streams, dead letters, prefixed app keys). */
export const cleanupRun = async (redis: Redis, run: string): Promise<void> => {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `*${run.replace(/[*?[\]\\]/g, '\\$&')}*`,
      'COUNT',
      1000,
    )
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}
