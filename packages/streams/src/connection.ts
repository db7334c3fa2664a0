/** ioredis connections tuned per role, as docs/pitfalls.md explains (producers fail fast, blocking readers wait). */
import './tracing-channel.ts'
import type { EventEmitter } from 'node:events'
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'

/** A connection to one Redis or to a Redis Cluster (`createRedisConnection` opens either). */
export type RedisClient = Redis | Cluster

/**
 * Where Redis is: one URL, or with `cluster: true` one or more seed nodes of a Redis Cluster, comma-separated
 * (`redis://10.0.0.1:6379,redis://10.0.0.2:6379`; the rest of the cluster is discovered from them).
 * A plain string is one Redis.
 */
export interface RedisTarget {
  readonly url: string
  readonly cluster?: boolean
}
export type RedisAddress = string | RedisTarget

/** Thrown when a Redis address cannot be used (a malformed URL, several nodes without `cluster`). */
export class RedisAddressError extends Error {
  override readonly name = 'RedisAddressError'
}

/** The seed URLs of an address, each checked. */
export const redisNodeUrls = (address: RedisAddress): URL[] => {
  const { url, cluster } = typeof address === 'string' ? { url: address, cluster: false } : address
  const parts = url
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
  if (parts.length === 0) throw new RedisAddressError('the Redis URL is empty')
  if (parts.length > 1 && !cluster)
    throw new RedisAddressError(
      'the Redis URL names several nodes; set REDIS_CLUSTER=true for a Redis Cluster',
    )
  return parts.map((part) => {
    let parsed: URL
    try {
      parsed = new URL(part)
    } catch {
      throw new RedisAddressError(`not a URL: ${part.replace(/\/\/[^@/]*@/, '//***@')}`)
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
      throw new RedisAddressError(`a Redis URL starts with redis:// or rediss:// (got ${parsed.protocol}//)`)
    if (cluster && parsed.pathname.length > 1 && parsed.pathname !== '/0')
      throw new RedisAddressError('a Redis Cluster has database 0 only: drop the /<db> from the URL')
    return parsed
  })
}

/**
 * - `producer`: publishes. Offline queue off and no resend of unanswered commands (an XADD must never be
 *   appended twice behind the caller's back), a short connect timeout: a publish fails fast. Its commands have no
 *   timeout of their own; the publisher bounds each round trip (`timeoutMs`).
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
    // No per-command timeout: ioredis would arm a timer per XADD; the publisher times out each round trip itself
    // (its `timeoutMs`, 2 s), one timer per pipeline.
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
const failFastAfterFirstConnect = (redis: RedisClient): void => {
  ;(redis as EventEmitter).once('ready', () => {
    redis.options.enableOfflineQueue = false
  })
}

/**
 * Resolves true once `redis` is ready, or false after `timeoutMs` (never rejects): a boot can wait out a Redis that
 * starts a moment later without letting its first commands time out, and still go on when Redis stays away.
 */
export const whenReady = (redis: RedisClient, timeoutMs: number): Promise<boolean> => {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer)
      offClient(redis, 'ready', onReady)
      resolve(ready)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    onClient(redis, 'ready', onReady)
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
  // The last four are a Redis Cluster's: a node or the whole cluster cannot serve the slot right now.
  return /^(Command timed out|Connection is closed\.|Stream isn't writeable|connect ETIMEDOUT|Reached the max retries|Cluster isn't ready|CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections)/.test(
    error.message,
  )
}

/**
 * A Redis Cluster client with the role's options: the cluster-level ones on the client, the rest on every node
 * connection; credentials and TLS from the first seed URL (every node of a cluster shares them).
 */
const openCluster = (nodes: readonly URL[], options: RedisOptions): Cluster => {
  const { enableOfflineQueue, enableAutoPipelining, retryStrategy, lazyConnect, ...nodeOptions } = options
  const first = nodes[0] as URL
  const tls = first.protocol === 'rediss:'
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: (times) => (retryStrategy ? retryStrategy(times) : reconnectDelay(times)),
    // Failover and resharding: a command is retried on the new owner every 200 ms, up to ioredis' 16
    // redirections (~3 s), before it fails.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    // TLS clusters (ElastiCache, Upstash) must connect to the announced host names, not resolved addresses.
    ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    redisOptions: {
      ...nodeOptions,
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(tls ? { tls: {} } : {}),
    },
  }
  return new Cluster(
    nodes.map((node) => ({ host: node.hostname.replace(/^\[|\]$/g, ''), port: Number(node.port || 6379) })),
    clusterOptions,
  )
}

/**
 * Opens a Redis connection with the options its role needs: to one Redis, or to a Redis Cluster when the
 * address says so (`{ url, cluster: true }`). Every app, the ops CLI, the SDK publisher and the outbox relay open
 * their connections here, so the role options and the cluster switch apply everywhere alike. A plain URL string
 * always opens one Redis (typed `Redis`).
 * @example const redis = createRedisConnection({ url: config.REDIS_URL, cluster: config.REDIS_CLUSTER }, 'producer')
 */
export const createRedisConnection: {
  (url: string, role: ConnectionRole, overrides?: RedisOptions, logger?: ConnectionLogger): Redis
  (
    address: RedisAddress,
    role: ConnectionRole,
    overrides?: RedisOptions,
    logger?: ConnectionLogger,
  ): RedisClient
} = ((
  address: RedisAddress,
  role: ConnectionRole,
  overrides: RedisOptions = {},
  logger?: ConnectionLogger,
) => {
  const nodes = redisNodeUrls(address)
  const options: RedisOptions = {
    connectionName: `flotilla-${role}`,
    retryStrategy: reconnectDelay,
    ...roleOptions[role],
    ...overrides,
  }
  const cluster = typeof address !== 'string' && address.cluster === true
  const redis: RedisClient = cluster
    ? openCluster(nodes, options)
    : new Redis(typeof address === 'string' ? address : address.url, options)
  if (role === 'request') failFastAfterFirstConnect(redis)
  // With a listener ioredis never prints its raw "[ioredis] Unhandled error event" line: one JSON log line instead.
  if (logger)
    onClient(redis, 'error', (error: Error) =>
      logger.warn(
        { err: error, connection: `flotilla-${role}`, status: redis.status },
        'redis connection error',
      ),
    )
  return redis
}) as never

/** True for a Redis Cluster client (ioredis' own flag: also right for a client from another copy of ioredis). */
export const isCluster = (redis: RedisClient): redis is Cluster => redis.isCluster === true

/**
 * Listens to a client's events (`error`, `ready`, …). `Redis` and `Cluster` declare different `on` overloads, so a
 * call on the union does not type-check; both are EventEmitters.
 */
export const onClient = (redis: RedisClient, event: string, listener: (...args: never[]) => void): void => {
  ;(redis as EventEmitter).on(event, listener as (...args: unknown[]) => void)
}

/** Stops listening (the counterpart of `onClient`). */
export const offClient = (redis: RedisClient, event: string, listener: (...args: never[]) => void): void => {
  ;(redis as EventEmitter).off(event, listener as (...args: unknown[]) => void)
}

/** Closes a connection politely (QUIT), or drops it when QUIT cannot be sent. */
export const closeConnection = async (redis: RedisClient): Promise<void> => {
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
