/**
 * A relay process for the crash test: publishes one batch, says so on stdout, then hangs before marking the
 * rows sent, so the test can SIGKILL it inside that window.
 * Usage: bun relay-crash.fixture.ts <db-url> <schema> <stream> [<redis-url> [cluster]] (default: the test Redis)
 */
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { TEST_REDIS_URL } from '@flotilla/streams/testing'
import postgres from 'postgres'
import { createOutboxRelay } from './relay.ts'

const [url, schema, stream, redisUrl = TEST_REDIS_URL, cluster] = process.argv.slice(2)
if (!url || !schema || !stream) throw new Error('usage: relay-crash.fixture.ts <db-url> <schema> <stream>')

const sql = postgres(url, { max: 2, onnotice: () => {}, connection: { search_path: schema } })
const publisher = createPublisher({
  redis: createRedisConnection({ url: redisUrl, cluster: cluster === 'cluster' }, 'producer'),
  stream,
})
const relay = createOutboxRelay({
  sql,
  publisher,
  listen: false,
  hooks: {
    async afterPublish(events) {
      process.stdout.write(`published ${events.map((e) => e.id).join(',')}\n`)
      await new Promise(() => {})
    },
  },
})
await relay.relayOnce()
