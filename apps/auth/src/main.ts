/** Auth service entry: load config → build deps → createApp → start the `auth` consumer → listen → shutdown hooks. */
import { CONSUMER_GROUPS, parseKeyRing } from '@flotilla/contracts'
import { closeAll, createLogger, createMetrics, onShutdown } from '@flotilla/service-kit'
import { initTelemetry, telemetryOptionsOf, traceHandler } from '@flotilla/telemetry'
import {
  createConsumer,
  createDeadLetters,
  createPublisher,
  createRedisConnection,
  readGroupStats,
} from '@flotilla/streams'
import { createApp } from './app.ts'
import { loadAuthConfig, settingsOf } from './config.ts'
import { buildCore, openCommandConnection } from './deps.ts'
import { createAuthMetrics } from './metrics.ts'
import { createAuthEventHandler } from './handlers/index.ts'

const GROUP = CONSUMER_GROUPS[0] // 'auth'

let config: ReturnType<typeof loadAuthConfig>
try {
  config = loadAuthConfig()
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL })
const telemetry = initTelemetry({
  service: 'auth',
  ...telemetryOptionsOf(config),
})
const metrics = createMetrics('auth')
const settings = settingsOf(config)
const redis = openCommandConnection(config.REDIS_URL)
const producer = createRedisConnection(config.REDIS_URL, 'producer')
const publisher = createPublisher({ redis: producer, stream: config.EVENTS_STREAM })
const observer = createAuthMetrics(metrics.registry)
const core = await buildCore({ redis, settings, events: publisher, logger, observer })
await core.keyRing.ensure()
const keyTimer = setInterval(() => {
  core.keyRing.ensure().catch((error: unknown) => logger.error({ err: error }, 'key ring check failed'))
}, settings.keyCheckIntervalSeconds * 1000)

const consumer = createConsumer({
  redisUrl: config.REDIS_URL,
  stream: config.EVENTS_STREAM,
  group: GROUP,
  handler: traceHandler(
    createAuthEventHandler({
      redis,
      prefix: settings.redisPrefix,
      sessions: core.sessionStore,
      devices: core.devices,
      events: publisher,
      logger,
      observer,
    }),
  ),
  hooks: metrics.streamHooks(GROUP),
  logger,
})
metrics.trackGroups(async () =>
  (await readGroupStats({ redis, stream: config.EVENTS_STREAM })).filter((g) => g.group === GROUP),
)

const app = createApp({
  core,
  logger,
  metrics,
  serviceKeys: parseKeyRing(config.SERVICE_TOKEN_SECRET),
  deadLetters: createDeadLetters({ redis, stream: config.EVENTS_STREAM, group: GROUP }),
  ...(config.AUTH_TRUSTED_PROXY_HEADER ? { trustedProxyHeader: config.AUTH_TRUSTED_PROXY_HEADER } : {}),
  readiness: {
    redis: async () => {
      await redis.ping()
    },
    consumer: async () =>
      consumer.status().state === 'running' ? undefined : `consumer is ${consumer.status().state}`,
    signingKey: async () => {
      await core.keyRing.signingKey()
    },
  },
})

await consumer.start()
app.listen({ port: config.PORT })
logger.info({ port: config.PORT, stream: config.EVENTS_STREAM, group: GROUP }, 'auth service listening')

onShutdown(
  closeAll(
    [
      ['http', () => app.stop()],
      ['key timer', () => clearInterval(keyTimer)],
      ['consumer', () => consumer.close()],
      ['producer', () => producer.quit()],
      ['redis', () => redis.quit()],
      ['telemetry', () => telemetry.close()],
    ],
    logger,
  ),
  { logger },
)
