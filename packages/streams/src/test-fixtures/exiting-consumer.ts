/**
 * A consumer process for the process-killing-entry test: records each handled event id in a Redis set and
 * exits the whole process (exit code 3) when it meets an event of type `test.process.exit`.
 * Usage: bun exiting-consumer.ts <redisUrl> <stream> <group> <handledKey> <maxDeliveries>
 */
import { createRedisConnection } from '../connection.ts'
import { createConsumer } from '../consumer/consumer.ts'

const [redisUrl = '', stream = '', group = '', handledKey = '', maxDeliveries = '3'] = process.argv.slice(2)
const redis = createRedisConnection(redisUrl, 'command')

const consumer = createConsumer({
  redisUrl,
  stream,
  group,
  blockMs: 100,
  claimIdleMs: 200,
  backoff: { baseMs: 20, maxMs: 100 },
  maxDeliveries: Number(maxDeliveries),
  handler: {
    async handle(m) {
      if (m.event.type === 'test.process.exit') process.exit(3)
      await redis.sadd(handledKey, m.event.id)
    },
  },
})
await consumer.start()
