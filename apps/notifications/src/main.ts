/** Notification service entry: load config → build deps → createApp → start the `notifications` consumer → listen → shutdown hooks. */
import { parseKeyRing } from '@flotilla/contracts'
import { closeAll, createLogger, createMetrics, onShutdown } from '@flotilla/service-kit'
import { createDeadLetters, createPublisher, createRedisConnection, readGroupStats } from '@flotilla/streams'
import { initTelemetry, telemetryOptionsOf } from '@flotilla/telemetry'
import { createApp } from './app.ts'
import { createTransports } from './channels/index.ts'
import { databaseUrlOf, loadNotificationsConfig, settingsOf, transportSettingsOf } from './config.ts'
import { createNotificationConsumer, NOTIFICATIONS_GROUP } from './consumer.ts'
import { openDatabase } from './db/client.ts'
import { buildCore } from './deps.ts'
import { deliveryMetrics } from './metrics.ts'

let config: ReturnType<typeof loadNotificationsConfig>
try {
  config = loadNotificationsConfig()
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
const logger = createLogger({ service: 'notifications', level: config.LOG_LEVEL })
const telemetry = initTelemetry({
  service: 'notifications',
  version: '0.1.0',
  ...telemetryOptionsOf(config),
})
const metrics = createMetrics('notifications')
const settings = settingsOf(config)
const database = await openDatabase({
  url: databaseUrlOf(config),
  ...(config.NOTIFICATIONS_DB_AUTH_TOKEN ? { authToken: config.NOTIFICATIONS_DB_AUTH_TOKEN } : {}),
})
const redis = createRedisConnection(config.REDIS_URL, 'command')
const producer = createRedisConnection(config.REDIS_URL, 'producer')
const publisher = createPublisher({ redis: producer, stream: config.EVENTS_STREAM })
const transports = createTransports(database.db, transportSettingsOf(config))
const core = buildCore({
  database,
  redis,
  settings,
  transports,
  events: publisher,
  logger,
  onAttempt: deliveryMetrics(metrics),
})

const consumer = createNotificationConsumer({
  redisUrl: config.REDIS_URL,
  stream: config.EVENTS_STREAM,
  handlerDeps: core.handlerDeps,
  concurrency: config.NOTIFICATIONS_CONCURRENCY,
  claimIdleMs: config.NOTIFICATIONS_CLAIM_IDLE_MS,
  backoff: { baseMs: config.NOTIFICATIONS_RETRY_BASE_MS, maxMs: config.NOTIFICATIONS_RETRY_MAX_MS },
  hooks: metrics.streamHooks(NOTIFICATIONS_GROUP),
  logger,
})
metrics.trackGroups(async () =>
  (await readGroupStats({ redis, stream: config.EVENTS_STREAM })).filter(
    (g) => g.group === NOTIFICATIONS_GROUP,
  ),
)

const app = createApp({
  core,
  logger,
  metrics,
  serviceKeys: parseKeyRing(config.SERVICE_TOKEN_SECRET),
  deadLetters: createDeadLetters({ redis, stream: config.EVENTS_STREAM, group: NOTIFICATIONS_GROUP }),
  readiness: {
    redis: async () => {
      await redis.ping()
    },
    database: async () => {
      await database.client.execute('SELECT 1')
    },
    consumer: async () =>
      consumer.status().state === 'running' ? undefined : `consumer is ${consumer.status().state}`,
  },
})

await consumer.start()
app.listen({ port: config.PORT })
logger.info(
  {
    port: config.PORT,
    stream: config.EVENTS_STREAM,
    group: NOTIFICATIONS_GROUP,
    providers: Object.fromEntries(Object.entries(transports).map(([channel, t]) => [channel, t.provider])),
  },
  'notification service listening',
)

onShutdown(
  closeAll(
    [
      ['http', () => app.stop()],
      ['consumer', () => consumer.close()],
      ['producer', () => producer.quit()],
      ['redis', () => redis.quit()],
      ['database', () => database.close()],
      ['telemetry', () => telemetry.close()],
    ],
    logger,
  ),
  { logger },
)
