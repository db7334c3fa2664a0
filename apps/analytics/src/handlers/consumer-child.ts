/**
 * A real analytics consumer in its own process, for the crash test: it counts batches like the service,
 * and once `--pause-after=N` events are committed it stops right after a commit, before the ack, prints
 * `PAUSED`, and waits to be SIGKILLed — the worst moment to die.
 */
import { createConsumer, defaultConsumerName } from '@flotilla/streams'
import { Redis } from 'ioredis'
import { loadAnalyticsConfig } from '../config.ts'
import { openDatabase } from '../db/client.ts'
import { createIngest } from '../ingest/service.ts'
import { createConfiguredUniques } from '../uniques/service.ts'

const pauseAfter = Number(process.argv.find((a) => a.startsWith('--pause-after='))?.split('=')[1] ?? Infinity)
const config = loadAnalyticsConfig()
const database = await openDatabase({ url: config.dbUrl })
const redis = new Redis(config.REDIS_URL)
const uniques = createConfiguredUniques(config, { redis, db: database.db })
const ingest = createIngest({ db: database.db, uniques })
let counted = 0
const consumer = createConsumer({
  redisUrl: config.REDIS_URL,
  stream: config.EVENTS_STREAM,
  group: 'analytics',
  consumerName: `child-${defaultConsumerName()}`,
  batchSize: config.ANALYTICS_CONSUMER_BATCH_SIZE,
  claimIdleMs: config.ANALYTICS_CONSUMER_CLAIM_IDLE_MS,
  handler: {
    async handleBatch(messages) {
      const r = await ingest.ingestBatch(messages.map((m) => m.event))
      counted += r.counted
      if (counted >= pauseAfter) {
        console.log(`PAUSED ${counted}`)
        await new Promise(() => {})
      }
      return undefined
    },
  },
})
await consumer.start()
console.log('STARTED')
