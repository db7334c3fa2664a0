/** Builds the analytics domain from its config and connections (the declaration in service.ts and tests use it). */
import type { Job, Logger, Metrics } from '@flotilla/service-kit'
import type { RedisClient } from '@flotilla/streams'
import type { AnalyticsConfig } from './config.ts'
import { createDashboardData, type DashboardDataLoader } from './dashboard/service.ts'
import { type Database, openDatabase } from './db/client.ts'
import { createIngest, type Ingest } from './ingest/service.ts'
import { type AnalyticsMetrics, createAnalyticsMetrics } from './metrics.ts'
import { createRollups, type Rollups } from './rollups/service.ts'
import { createStats, type Stats } from './stats/service.ts'
import { createConfiguredUniques, type Uniques } from './uniques/service.ts'

export interface AnalyticsDomain {
  readonly config: AnalyticsConfig
  readonly database: Database
  /** The service's command connection (uniques, pipeline stats). */
  readonly redis: RedisClient
  readonly uniques: Uniques
  readonly ingest: Ingest
  readonly rollups: Rollups
  readonly stats: Stats
  readonly dashboard: DashboardDataLoader
  readonly metrics: AnalyticsMetrics
}

export interface DomainOptions {
  readonly config: AnalyticsConfig
  readonly redis: RedisClient
  readonly metrics: Metrics
  readonly logger: Logger
  /** The clock (tests move it). @defaultValue Date.now */
  readonly now?: () => number
}

/** The scheduled jobs: rollups, the daily-sketch copy, retention. */
export const analyticsJobs = (
  config: AnalyticsConfig,
  { rollups, uniques }: { rollups: Rollups; uniques: Uniques },
): Job[] => [
  { name: 'rollup', everyMs: config.ANALYTICS_ROLLUP_INTERVAL_MS, run: () => rollups.rollupDirty() },
  {
    name: 'uniques-persist',
    everyMs: config.ANALYTICS_UNIQUES_PERSIST_INTERVAL_MS,
    run: () => uniques.persist(),
  },
  { name: 'retention', everyMs: config.ANALYTICS_RETENTION_INTERVAL_MS, run: () => rollups.retain() },
]

/** Opens the database and wires the services. Nothing starts running. */
export const buildDomain = async ({
  config,
  redis,
  metrics,
  logger,
  now,
}: DomainOptions): Promise<AnalyticsDomain> => {
  const database = await openDatabase({
    url: config.dbUrl,
    // The service boots with its database down (PostgreSQL): `/ready` names it until it is up.
    wait: false,
    logger,
    ...(config.ANALYTICS_DB_AUTH_TOKEN ? { authToken: config.ANALYTICS_DB_AUTH_TOKEN } : {}),
  })
  const clock = now ? { now } : {}
  const uniques = createConfiguredUniques(config, { redis, db: database.db })
  return {
    config,
    database,
    redis,
    uniques,
    ingest: createIngest({ db: database.db, uniques, ...clock }),
    rollups: createRollups({
      db: database.db,
      minuteRetentionMs: config.minuteRetentionMs,
      hourRetentionMs: config.hourRetentionMs,
      processedRetentionMs: config.processedRetentionMs,
      ...clock,
    }),
    stats: createStats({
      db: database.db,
      uniques,
      maxPoints: config.ANALYTICS_MAX_POINTS,
      minuteRetentionMs: config.minuteRetentionMs,
      hourRetentionMs: config.hourRetentionMs,
      ...clock,
    }),
    dashboard: createDashboardData({
      db: database.db,
      redis,
      uniques,
      stream: config.EVENTS_STREAM,
      ...clock,
    }),
    metrics: createAnalyticsMetrics(metrics),
  }
}
