/** ioredis connections tuned per role, as docs/pitfalls.md explains (producers fail fast, blocking readers wait). */
import './tracing-channel.ts'
import { Redis, type RedisOptions } from 'ioredis'

/**
 * - `producer`: publishes. Offline queue off and no resend of unanswered commands (an XADD must never be
 *   appended twice behind the caller's back), short connect/command timeouts: a publish fails fast.
 * - `consumer`: blocking reads (XREADGROUP BLOCK) on a connection of their own; waits through reconnects
 *   (`maxRetriesPerRequest: null`), guarded by the consumer's watchdog (ioredis#1285).
 * - `command`: everything else (acks, claims, dead letters, stats): ioredis defaults plus a command timeout.
 * - `request`: what a request waits on (sessions, rate limits, token checks): a command fails within a second when
 *   Redis is gone, so the caller answers 503 instead of hanging (see `failFastAfterFirstConnect`).
 * - `subscriber`: pub/sub (the revocation channel); waits through reconnects, resubscribed by its owner.
 */
export type ConnectionRole = 'producer' | 'consumer' | 'command' | 'request' | 'subscriber'

/** Reconnect delay after `times` failed attempts: exponential from 50 ms, capped at 2 s, with jitter. */
const reconnectDelay = (times: number): number => {
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
  request: {
    connectTimeout: 5000,
    commandTimeout: 1000,
    // A command cut off by a reconnect has already failed its request (timeout): never run it later.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
  },
  subscriber: {
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    autoResubscribe: false,
  },
}

/** Where a connection reports its errors (the service's pino logger fits). */
export interface ConnectionLogger {
  warn(obj: Record<string, unknown>, msg: string): void
}

/**
 * The offline queue stays on until the first connection, so commands sent at boot wait for it; after that a
 * command sent while Redis is unreachable fails at once ("Stream isn't writeable…") rather than waiting in the
 * queue for its timeout. ioredis reads `enableOfflineQueue` on every command, so switching it here is enough.
 */
const failFastAfterFirstConnect = (redis: Redis): void => {
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false
  })
}

/**
 * Resolves true once `redis` is ready, or false after `timeoutMs` (never rejects): a boot can wait out a Redis that
 * starts a moment later without letting its first commands time out, and still go on when Redis stays away.
 */
export const whenReady = (redis: Redis, timeoutMs: number): Promise<boolean> => {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(ready)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    redis.on('ready', onReady)
  })
}

/** True when `error` says Redis could not be reached or did not answer in time (not a command's own error). */
export const isRedisUnavailableError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  const code = (error as { code?: unknown }).code
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code)
  )
    return true
  return /^(Command timed out|Connection is closed\.|Stream isn't writeable|connect ETIMEDOUT|Reached the max retries)/.test(
    error.message,
  )
}

/**
 * Opens a Redis connection with the options its role needs.
 * @example const redis = createRedisConnection(config.REDIS_URL, 'producer')
 */
export const createRedisConnection = (
  url: string,
  role: ConnectionRole,
  overrides: RedisOptions = {},
  logger?: ConnectionLogger,
): Redis => {
  const redis = new Redis(url, {
    connectionName: `flotilla-${role}`,
    retryStrategy: reconnectDelay,
    ...roleOptions[role],
    ...overrides,
  })
  if (role === 'request') failFastAfterFirstConnect(redis)
  // With a listener ioredis never prints its raw "[ioredis] Unhandled error event" line: one JSON log line instead.
  if (logger)
    redis.on('error', (error: Error) =>
      logger.warn(
        { err: error, connection: `flotilla-${role}`, status: redis.status },
        'redis connection error',
      ),
    )
  return redis
}

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
