/**
 * A consumer process for the crash test. Records each handled event id in a Redis set; once the set holds
 * `stallAfter` ids it handles half of the next batch and hangs, so the parent can SIGKILL it mid-batch
 * with entries pending on it (some handled, some never).
 * Usage: bun crashing-consumer.ts <redisUrl> <stream> <group> <consumerName> <handledKey> <stallAfter>
 */
import { createRedisConnection } from '../connection.ts'
import { createConsumer } from '../consumer/consumer.ts'

const [redisUrl = '', stream = '', group = '', consumerName = '', handledKey = '', stallAfter = '0'] =
  process.argv.slice(2)
const redis = createRedisConnection(redisUrl, 'command')

const consumer = createConsumer({
  redisUrl,
  stream,
  group,
  consumerName,
  batchSize: 100,
  handler: {
    async handleBatch(messages) {
      const ids = messages.map((m) => m.event.id)
      if ((await redis.scard(handledKey)) < Number(stallAfter)) {
        await redis.sadd(handledKey, ...ids)
        return
      }
      await redis.sadd(handledKey, ...ids.slice(0, ids.length / 2))
      await new Promise(() => {}) // hang here until killed
    },
  },
})
await consumer.start()
