/** Builds every dependency of the analytics service from its config (shared by `main.ts` and tests). */
import { hostname } from 'node:os'
import { createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import {
  type AccessTokenVerifier,
  closeAll,
  createAccessTokenVerifier,
  createLogger,
  createMetrics,
  type Logger,
  type Metrics,
  type ServiceVerifier,
} from '@flotilla/service-kit'
import {
  type Consumer,
  createConsumer,
  createDeadLetters,
  createRedisConnection,
  type DeadLetters,
  readGroupStats,
} from '@flotilla/streams'
import type { Redis } from 'ioredis'
import type { AnalyticsConfig } from './config.ts'
import { createDashboardData, type DashboardDataLoader } from './dashboard/service.ts'
import { type Database, openDatabase } from './db/client.ts'
import { createEveryEventHandler } from './handlers/every-event.ts'
import { createIngest, type Ingest } from './ingest/service.ts'
import { createAnalyticsMetrics } from './metrics.ts'
import { createScheduler, type Job, type Scheduler } from './jobs/scheduler.ts'
import { createRollups, type Rollups } from './rollups/service.ts'
import { createStats, type Stats } from './stats/service.ts'
import { createUniques, type Uniques } from './uniques/service.ts'

/** The consumer group analytics reads as. */
export const ANALYTICS_GROUP = 'analytics'

export interface AnalyticsDeps {
  readonly config: AnalyticsConfig
  readonly logger: Logger
  readonly metrics: Metrics
  readonly database: Database
  /** Command connection (uniques, locks, pipeline stats, dead letters). */
  readonly redis: Redis
  readonly uniques: Uniques
  readonly ingest: Ingest
  readonly rollups: Rollups
  readonly stats: Stats
  readonly dashboard: DashboardDataLoader
  readonly scheduler: Scheduler
  readonly consumer: Consumer
  readonly deadLetters: DeadLetters
  readonly serviceVerifier: ServiceVerifier
  readonly accessTokenVerifier: AccessTokenVerifier
  /** Stops consumer and jobs, closes connections. Safe to call twice. */
  close(): Promise<void>
}

export interface DepsOverrides {
  readonly logger?: Logger
  readonly accessTokenVerifier?: AccessTokenVerifier
  /** Name of this instance in job records and the consumer name. */
  readonly instance?: string
  readonly now?: () => number
}

/** The scheduled jobs: rollups, the daily-sketch copy, retention. */
export const analyticsJobs = (
  config: AnalyticsConfig,
  { rollups, uniques }: { rollups: Rollups; uniques: Uniques },
): Job[] => [
  { name: 'rollup', intervalMs: config.ROLLUP_INTERVAL_MS, run: () => rollups.rollupDirty() },
  { name: 'uniques-persist', intervalMs: config.UNIQUES_PERSIST_INTERVAL_MS, run: () => uniques.persist() },
  { name: 'retention', intervalMs: config.RETENTION_INTERVAL_MS, run: () => rollups.retain() },
]

/** Opens the database and Redis and wires the services. Nothing starts running yet. */
export const buildDeps = async (
  config: AnalyticsConfig,
  overrides: DepsOverrides = {},
): Promise<AnalyticsDeps> => {
  const logger = overrides.logger ?? createLogger({ service: 'analytics', level: config.LOG_LEVEL })
  const instance = overrides.instance ?? `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`
  const metrics = createMetrics('analytics')
  const own = createAnalyticsMetrics(metrics)
  const database = await openDatabase({
    url: config.dbUrl,
    ...(config.ANALYTICS_DB_AUTH_TOKEN ? { authToken: config.ANALYTICS_DB_AUTH_TOKEN } : {}),
  })
  const redis = createRedisConnection(config.REDIS_URL, 'command')
  const now = overrides.now
  const uniques = createUniques({
    redis,
    db: database.db,
    prefix: config.ANALYTICS_REDIS_PREFIX,
    hourTtlMs: config.hllHourTtlMs,
    dayTtlMs: config.hllDayTtlMs,
  })
  const ingest = createIngest({ db: database.db, uniques, ...(now ? { now } : {}) })
  const rollups = createRollups({
    db: database.db,
    minuteRetentionMs: config.minuteRetentionMs,
    hourRetentionMs: config.hourRetentionMs,
    processedRetentionMs: config.processedRetentionMs,
    ...(now ? { now } : {}),
  })
  const stats = createStats({
    db: database.db,
    uniques,
    maxPoints: config.ANALYTICS_MAX_POINTS,
    minuteRetentionMs: config.minuteRetentionMs,
    hourRetentionMs: config.hourRetentionMs,
    ...(now ? { now } : {}),
  })
  const dashboard = createDashboardData({
    db: database.db,
    redis,
    uniques,
    stream: config.EVENTS_STREAM,
    ...(now ? { now } : {}),
  })
  const scheduler = createScheduler({
    redis,
    db: database.db,
    prefix: config.ANALYTICS_REDIS_PREFIX,
    instance,
    jobs: analyticsJobs(config, { rollups, uniques }),
    tickMs: config.JOBS_TICK_MS,
    logger,
    onOutcome: own.job,
  })
  const consumer = createConsumer({
    redisUrl: config.REDIS_URL,
    stream: config.EVENTS_STREAM,
    group: ANALYTICS_GROUP,
    consumerName: instance,
    handler: createEveryEventHandler({ ingest, onIngested: own.ingested }),
    batchSize: config.CONSUMER_BATCH_SIZE,
    claimIdleMs: config.CONSUMER_CLAIM_IDLE_MS,
    maxDeliveries: config.CONSUMER_MAX_DELIVERIES,
    hooks: metrics.streamHooks(ANALYTICS_GROUP),
    logger,
  })
  metrics.trackGroups(() => readGroupStats({ redis, stream: config.EVENTS_STREAM }))
  const serviceVerifier = createServiceTokenVerifier(parseKeyRing(config.SERVICE_TOKEN_SECRET), {
    audience: 'analytics',
  })
  const accessTokenVerifier =
    overrides.accessTokenVerifier ??
    createAccessTokenVerifier({ jwksUrl: config.jwksUrl, issuer: config.AUTH_ISSUER })
  const close = closeAll(
    [
      ['consumer', () => consumer.close()],
      ['scheduler', () => scheduler.close()],
      ['redis', () => redis.quit()],
      ['database', () => database.close()],
    ],
    logger,
  )
  return {
    config,
    logger,
    metrics,
    database,
    redis,
    uniques,
    ingest,
    rollups,
    stats,
    dashboard,
    scheduler,
    consumer,
    deadLetters: createDeadLetters({ redis, stream: config.EVENTS_STREAM, group: ANALYTICS_GROUP }),
    serviceVerifier,
    accessTokenVerifier,
    close,
  }
}
