/** ioredis connections tuned per role, as docs/pitfalls.md explains (producers fail fast, blocking readers wait). */
import './tracing-channel.ts'
import { Redis, type RedisOptions } from 'ioredis'

/**
 * - `producer`: publishes. Offline queue off and no resend of unanswered commands (an XADD must never be
 *   appended twice behind the caller's back), short connect/command timeouts: a publish fails fast.
 * - `consumer`: blocking reads (XREADGROUP BLOCK) on a connection of their own; waits through reconnects
 *   (`maxRetriesPerRequest: null`), guarded by the consumer's watchdog (ioredis#1285).
 * - `command`: everything else (acks, claims, dead letters, stats): ioredis defaults plus a command timeout.
 */
export type ConnectionRole = 'producer' | 'consumer' | 'command'

/** Reconnect delay after `times` failed attempts: exponential from 50 ms, capped at 2 s, with jitter. */
export const reconnectDelay = (times: number): number => {
  const ceiling = Math.min(2000, 50 * 2 ** Math.min(times - 1, 10))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

const roleOptions: Record<ConnectionRole, RedisOptions> = {
  producer: {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    // Producers gain a little from auto-pipelining; consumers lose (docs/pitfalls.md: ~38% slower).
    enableAutoPipelining: true,
  },
  consumer: {
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
  },
  command: {
    connectTimeout: 5000,
    commandTimeout: 5000,
  },
}

/**
 * Opens a Redis connection with the options its role needs.
 * @example const redis = createRedisConnection(config.REDIS_URL, 'producer')
 */
export const createRedisConnection = (
  url: string,
  role: ConnectionRole,
  overrides: RedisOptions = {},
): Redis =>
  new Redis(url, {
    connectionName: `flotilla-${role}`,
    retryStrategy: reconnectDelay,
    ...roleOptions[role],
    ...overrides,
  })

/** The options a role gets (for callers that build their own client, e.g. a cluster). */
export const connectionOptionsFor = (role: ConnectionRole): RedisOptions => ({
  retryStrategy: reconnectDelay,
  ...roleOptions[role],
})

/** Closes a connection politely (QUIT), or drops it when QUIT cannot be sent. */
export const closeConnection = async (redis: Redis): Promise<void> => {
  if (redis.status === 'end') return
  try {
    if (redis.status === 'ready') {
      await redis.quit()
      return
    }
  } catch {
    // fall through: the socket is gone or the command timed out
  }
  redis.disconnect()
}
