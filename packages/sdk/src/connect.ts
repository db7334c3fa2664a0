/** One call from a Redis URL to a stream publisher on a fail-fast producer connection. */
import { closeConnection, createPublisher, createRedisConnection, type Publisher } from '@flotilla/streams'

export interface StreamConnection {
  /** The stream publisher (`publish`, `publishBatch`), for `createEventPublisher` and `createOutboxRelay`. */
  readonly publisher: Publisher
  /** Closes the Redis connection. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Opens a producer connection (no offline queue: a publish fails fast when Redis is down) and a publisher on it;
 * with `cluster: true`, to the Redis Cluster whose nodes `redisUrl` names (comma-separated).
 * @example const stream = connectStream({ redisUrl: config.REDIS_URL, cluster: config.REDIS_CLUSTER, stream: config.EVENTS_STREAM })
 */
export const connectStream = ({
  redisUrl,
  cluster = false,
  stream,
}: {
  redisUrl: string
  cluster?: boolean
  stream: string
}): StreamConnection => {
  // Failures reach callers as rejected publishes; the quiet logger stands for the listener ioredis wants, or it
  // would print each failed reconnect.
  const redis = createRedisConnection({ url: redisUrl, cluster }, 'producer', {}, { warn() {} })
  let closed: Promise<void> | undefined
  return {
    publisher: createPublisher({ redis, stream }),
    close() {
      closed ??= closeConnection(redis).catch(() => {})
      return closed
    },
  }
}
