/** One call from a Redis URL to a stream publisher on a fail-fast producer connection. */
import { closeConnection, createPublisher, createRedisConnection, type Publisher } from '@flotilla/streams'

export interface StreamConnection {
  /** The stream publisher (`publish`, `publishBatch`), for `createEventPublisher` and `createOutboxRelay`. */
  readonly publisher: Publisher
  /** Closes the Redis connection. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Opens a producer connection (no offline queue: a publish fails fast when Redis is down) and a publisher on it.
 * @example const stream = connectStream({ redisUrl: config.REDIS_URL, stream: config.EVENTS_STREAM })
 */
export const connectStream = ({
  redisUrl,
  stream,
}: {
  redisUrl: string
  stream: string
}): StreamConnection => {
  const redis = createRedisConnection(redisUrl, 'producer')
  // Failures reach callers as rejected publishes; without a listener ioredis would also log each reconnect.
  redis.on('error', () => {})
  let closed: Promise<void> | undefined
  return {
    publisher: createPublisher({ redis, stream }),
    close() {
      closed ??= closeConnection(redis).catch(() => {})
      return closed
    },
  }
}
