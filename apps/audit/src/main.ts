/** Audit service entry: load config → build deps → createApp → start the `audit` consumer and jobs → listen → shutdown hooks. */
import { createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import {
  closeAll,
  createAccessTokenVerifier,
  createLogger,
  createMetrics,
  onShutdown,
} from '@flotilla/service-kit'
import { createDeadLetters, createPublisher, createRedisConnection, readGroupStats } from '@flotilla/streams'
import { initTelemetry, telemetryOptionsOf, injectTraceparent } from '@flotilla/telemetry'
import { createApp } from './app.ts'
import { AUDIT_READ_SCOPE } from './auth/scope.ts'
import { createRedisAnchors } from './chain/checkpoints.ts'
import { loadAuditConfig } from './config.ts'
import { AUDIT_GROUP, createAuditConsumer } from './ingest/consumer.ts'
import { runCheckpoints } from './jobs/checkpoint.ts'
import { startPeriodicJob } from './jobs/scheduler.ts'
import { createAuditMetrics } from './metrics.ts'
import { runRetention } from './retention/service.ts'
import { openStore } from './store/open.ts'

let settings: ReturnType<typeof loadAuditConfig>
try {
  settings = loadAuditConfig()
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
const { config } = settings
const logger = createLogger({ service: 'audit', level: config.LOG_LEVEL })
const telemetry = initTelemetry({
  service: 'audit',
  ...telemetryOptionsOf(config),
})
const metrics = createMetrics('audit')
const auditMetrics = createAuditMetrics(metrics)
const redis = createRedisConnection(config.REDIS_URL, 'command')
const producer = createRedisConnection(config.REDIS_URL, 'producer')
const publisher = createPublisher({ redis: producer, stream: config.EVENTS_STREAM })
const store = await openStore(settings.store)
const anchors = createRedisAnchors(redis, config.AUDIT_REDIS_PREFIX)

const consumer = createAuditConsumer({
  redisUrl: config.REDIS_URL,
  stream: config.EVENTS_STREAM,
  store,
  batchSize: config.AUDIT_BATCH_SIZE,
  hooks: metrics.streamHooks(AUDIT_GROUP),
  logger,
  onAppended: auditMetrics.appended,
})
metrics.trackGroups(async () =>
  (await readGroupStats({ redis, stream: config.EVENTS_STREAM })).filter((g) => g.group === AUDIT_GROUP),
)

const checkpoints = startPeriodicJob({
  name: 'checkpoint',
  everyMs: config.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
  redis,
  lockKey: `${config.AUDIT_REDIS_PREFIX}lock:checkpoint`,
  run: () =>
    runCheckpoints({ store, anchors, publish: (event) => publisher.publish(injectTraceparent(event)) }),
  onRun: (published) => {
    auditMetrics.checkpointed(published.length)
    if (published.length > 0) logger.info({ chains: published.length }, 'chain heads checkpointed')
  },
  logger,
})
const retention = startPeriodicJob({
  name: 'retention',
  everyMs: config.AUDIT_RETENTION_INTERVAL_SECONDS * 1000,
  redis,
  lockKey: `${config.AUDIT_REDIS_PREFIX}lock:retention`,
  lockTtlMs: 5 * 60_000,
  run: () => runRetention({ store, policy: settings.retention, anchors }),
  onRun: (moved) => {
    auditMetrics.pruned(moved.length)
    for (const a of moved) logger.info({ chain: a.chain, seq: a.seq }, 'records pruned up to the anchor')
  },
  logger,
})

const serviceKeys = parseKeyRing(config.SERVICE_TOKEN_SECRET)
const app = createApp({
  store,
  anchors,
  logger,
  metrics,
  auditMetrics,
  auth: {
    serviceVerifier: createServiceTokenVerifier(serviceKeys, { audience: 'audit' }),
    accessTokenVerifier: createAccessTokenVerifier({
      jwksUrl: settings.jwksUrl,
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
    }),
    requiredScope: AUDIT_READ_SCOPE,
  },
  deadLetters: createDeadLetters({ redis, stream: config.EVENTS_STREAM, group: AUDIT_GROUP }),
  exportPageSize: config.AUDIT_EXPORT_PAGE_SIZE,
  readiness: {
    redis: async () => {
      await redis.ping()
    },
    store: async () => {
      await store.head('global')
    },
    consumer: async () =>
      consumer.status().state === 'running' ? undefined : `consumer is ${consumer.status().state}`,
  },
})

await consumer.start()
app.listen({ port: config.PORT })
logger.info(
  { port: config.PORT, stream: config.EVENTS_STREAM, group: AUDIT_GROUP, store: store.kind },
  'audit service listening',
)

onShutdown(
  closeAll(
    [
      ['http', () => app.stop()],
      ['consumer', () => consumer.close()],
      ['checkpoint job', () => checkpoints.stop()],
      ['retention job', () => retention.stop()],
      ['store', () => store.close()],
      ['redis', () => redis.quit()],
      ['producer', () => producer.quit()],
      ['telemetry', () => telemetry.close()],
    ],
    logger,
  ),
  { logger },
)
