/** The analytics service, declared: every event counted in time buckets, uniques in HyperLogLog, rollup jobs. */
import { type AccessTokenVerifier, createAccessTokenVerifier, defineService } from '@flotilla/service-kit'
import { createApp } from './app.ts'
import { loadAnalyticsConfig } from './config.ts'
import { analyticsJobs, buildDomain } from './deps.ts'
import { createEveryEventHandler } from './handlers/every-event.ts'
import { createJobRunLog } from './jobs/run-log.ts'

export const VERSION = '0.1.0'

/** What tests may inject: a clock, and a verifier over a local JWKS. */
export interface AnalyticsOverrides {
  readonly now: () => number
  readonly accessTokenVerifier: AccessTokenVerifier
}

export const analyticsService = defineService({
  name: 'analytics',
  version: VERSION,
  config: loadAnalyticsConfig,
  async build(
    { config, redis, metrics, logger, serviceVerifier, revocations },
    overrides: Partial<AnalyticsOverrides>,
  ) {
    const domain = await buildDomain({
      config,
      redis,
      metrics,
      logger,
      ...(overrides.now ? { now: overrides.now } : {}),
    })
    const accessTokenVerifier =
      overrides.accessTokenVerifier ??
      createAccessTokenVerifier({ jwksUrl: config.jwksUrl, issuer: config.AUTH_ISSUER, revocations })
    return { ...domain, auth: { serviceVerifier, accessTokenVerifier } }
  },
  app: (deps, http) => createApp(deps, http),
  subscription: ({ ingest, metrics }, { config }) => ({
    everyEvent: createEveryEventHandler({ ingest, onIngested: metrics.ingested }),
    consumer: {
      batchSize: config.ANALYTICS_CONSUMER_BATCH_SIZE,
      claimIdleMs: config.ANALYTICS_CONSUMER_CLAIM_IDLE_MS,
      maxDeliveries: config.ANALYTICS_CONSUMER_MAX_DELIVERIES,
    },
  }),
  jobs: (deps, { config, instance, logger }) => {
    const log = createJobRunLog({ db: deps.database.db, instance, logger })
    return {
      keyPrefix: `${config.ANALYTICS_REDIS_PREFIX}:`,
      list: analyticsJobs(config, deps),
      enabled: config.ANALYTICS_JOBS_ENABLED,
      tickMs: config.ANALYTICS_JOBS_TICK_MS,
      onOutcome: (outcome) => {
        deps.metrics.job(outcome)
        log(outcome)
      },
    }
  },
  readiness: ({ database }) => ({
    // PostgreSQL names the database it reached, or why it cannot (never the credentials).
    store: () => database.check(),
  }),
  close: ({ database }) => [['database', () => database.close()]],
})
