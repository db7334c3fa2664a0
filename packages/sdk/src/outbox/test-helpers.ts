/** Shared pieces of the outbox tests: a migrated schema, a real stream, and reading it back. */
import { type AnyEvent, createEvent, decodeEntry } from '@flotilla/contracts'
import type { RedisClient } from '@flotilla/streams'
import { closeConnection, createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName } from '@flotilla/streams/testing'
import { createTestSchema, type TestSchema } from '../testing.ts'
import { migrateOutbox } from './migrate.ts'

const REDIS_URL = TEST_REDIS_URL

export interface OutboxFixture {
  readonly db: TestSchema
  readonly stream: string
  readonly redis: RedisClient
  readonly publisher: ReturnType<typeof createPublisher>
  /** Every event on the stream, in stream order. */
  readStream(): Promise<AnyEvent[]>
  close(): Promise<void>
}

export const createOutboxFixture = async (): Promise<OutboxFixture> => {
  const db = await createTestSchema()
  await migrateOutbox(db.sql, { migrationsSchema: db.schema })
  const stream = uniqueStreamName('outbox')
  // The producer fails fast while it connects (no offline queue): reads and cleanup go through their own connection.
  const producer = createRedisConnection(REDIS_URL, 'producer')
  const redis = createRedisConnection(REDIS_URL, 'command')
  const publisher = createPublisher({ redis: producer, stream })
  return {
    db,
    stream,
    redis,
    publisher,
    async readStream() {
      const entries = await redis.xrange(stream, '-', '+')
      return entries.map(([, fields]) => {
        const decoded = decodeEntry(fields)
        if (!decoded.ok) throw decoded.error
        return decoded.event
      })
    },
    async close() {
      try {
        await cleanupStream(redis, stream)
      } finally {
        await Promise.all([closeConnection(redis), closeConnection(producer)])
        await db.drop()
      }
    },
  }
}

/** A valid catalogued event with a recognisable sequence number in its payload. */
export const numberedEvent = (n: number) =>
  createEvent(
    'user.registered',
    { userId: `u_${n}`, email: `user${n}@example.com` },
    { source: 'monolith', correlationId: `c_${n}` },
  )
