/**
 * A consumer process for the crash test. Records each handled event id in a Redis set; once the set holds
 * `stallAfter` ids it handles half of the next batch and hangs, so the parent can SIGKILL it mid-batch
 * with entries pending on it (some handled, some never).
 * Usage: bun crashing-consumer.ts <redisUrl> <stream> <group> <consumerName> <handledKey> <stallAfter>
 */
import { createConsumer } from '../consumer/consumer.ts'
import { fixtureArgs } from './fixture-consumer.ts'

const { redisUrl, stream, group, rest, redis } = fixtureArgs()
const [consumerName = '', handledKey = '', stallAfter = '0'] = rest

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
