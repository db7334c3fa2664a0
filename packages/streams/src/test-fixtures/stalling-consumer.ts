/**
 * A consumer process for the restart test: production timings (the default `claimIdleMs` of 30 s and
 * heartbeat), records each handled event id in a Redis set, and hangs on its first batch so the parent can
 * SIGKILL it with that batch pending. With `handle` as the fourth argument it handles normally instead (the
 * restarted process).
 * Usage: bun stalling-consumer.ts <redisUrl> <stream> <group> <hang|handle> <handledKey>
 */
import { createRedisConnection } from '../connection.ts'
import { createConsumer } from '../consumer/consumer.ts'

const [redisUrl = '', stream = '', group = '', mode = 'hang', handledKey = ''] = process.argv.slice(2)
const redis = createRedisConnection(redisUrl, 'command')

const consumer = createConsumer({
  redisUrl,
  stream,
  group,
  batchSize: 50,
  handler: {
    async handle(m) {
      if (mode === 'hang') await new Promise(() => {}) // until killed
      await redis.sadd(handledKey, m.event.id)
    },
  },
})
await consumer.start()
process.stdout.write(`${JSON.stringify({ ready: true, name: consumer.name })}\n`)
