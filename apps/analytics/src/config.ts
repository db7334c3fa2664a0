/** Analytics configuration: the only place that reads the environment (validated once, frozen). */
import { join, resolve } from 'node:path'
import {
  baseConfig,
  ConfigError,
  type Env,
  isPostgresUrl,
  loadConfig,
  serviceUrl,
} from '@flotilla/service-kit'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { t } from 'elysia'

const DAY_MS = 86_400_000
const days = (description: string, value: number) =>
  t.Number({ exclusiveMinimum: 0, default: value, description })
const ms = (description: string, value: number, minimum = 100) =>
  t.Integer({ minimum, default: value, description })

/** Every variable analytics reads (documented in `.env.example`). */
export const AnalyticsConfigSchema = t.Composite([
  baseConfig({ port: 3004 }),
  TelemetryConfigSchema,
  t.Object({
    ANALYTICS_DB_URL: t.Optional(
      t.String({ pattern: '^(file:|libsql://|https?://|wss?://|postgres(ql)?://)' }),
    ),
    ANALYTICS_DB_AUTH_TOKEN: t.Optional(t.String({ minLength: 1 })),
    ANALYTICS_REDIS_PREFIX: t.String({ minLength: 1, pattern: '^[^\\s{}]+$', default: 'analytics' }),
    AUTH_JWKS_URL: t.Optional(t.String({ pattern: '^https?://' })),
    AUTH_ISSUER: t.String({ minLength: 1, default: 'flotilla-auth' }),
    ANALYTICS_MAX_POINTS: t.Integer({ minimum: 10, maximum: 100_000, default: 1500 }),
    ANALYTICS_MINUTE_RETENTION_DAYS: days('minute rows older than this become one row per hour', 7),
    ANALYTICS_HOUR_RETENTION_DAYS: days('hour rows older than this become one row per day', 90),
    ANALYTICS_PROCESSED_ID_RETENTION_DAYS: days('how long processed envelope ids are remembered', 30),
    ANALYTICS_HLL_HOUR_TTL_DAYS: days('Redis TTL of hourly HyperLogLog sketches', 8),
    ANALYTICS_HLL_DAY_TTL_DAYS: days('Redis TTL of daily sketches (libSQL keeps them)', 40),
    ANALYTICS_JOBS_ENABLED: t.Boolean({ default: true }),
    ANALYTICS_ROLLUP_INTERVAL_MS: ms('rollup job period', 30_000),
    ANALYTICS_UNIQUES_PERSIST_INTERVAL_MS: ms('daily-sketch copy period', 60_000),
    ANALYTICS_RETENTION_INTERVAL_MS: ms('retention job period', 3_600_000),
    ANALYTICS_JOBS_TICK_MS: ms('how often each instance looks for due jobs', 5_000),
    // 500: each batch is one durable commit (an fsync), and that commit is the ingest's largest cost; at 200 the
    // analytics benchmark measured 0.41-0.42x of a raw drain, at 500 0.55x (a batch is whatever is waiting, up to
    // this, so a quiet stream still gets small, prompt batches).
    ANALYTICS_CONSUMER_BATCH_SIZE: t.Integer({ minimum: 1, maximum: 1000, default: 500 }),
    ANALYTICS_CONSUMER_CLAIM_IDLE_MS: ms('idle time before another consumer reclaims an entry', 30_000),
    ANALYTICS_CONSUMER_MAX_DELIVERIES: t.Integer({ minimum: 1, default: 5 }),
    ANALYTICS_DASHBOARD_PUBLIC: t.Optional(t.Boolean()),
  }),
])

/** The loaded configuration, with derived values resolved. */
export type AnalyticsConfig = ReturnType<typeof loadAnalyticsConfig>

/**
 * Loads and validates the configuration. `ANALYTICS_DB_URL` defaults to `file:<DATA_DIR>/analytics.db`
 * (a `postgres://` URL selects PostgreSQL),
 * `AUTH_JWKS_URL` to the auth service's `/.well-known/jwks.json`, and `ANALYTICS_DASHBOARD_PUBLIC` to true outside
 * production only.
 */
export const loadAnalyticsConfig = (env: Env = process.env) => {
  const c = loadConfig(AnalyticsConfigSchema, env)
  if (c.ANALYTICS_DB_AUTH_TOKEN && isPostgresUrl(c.ANALYTICS_DB_URL)) {
    throw new ConfigError([
      {
        variable: 'ANALYTICS_DB_AUTH_TOKEN',
        message: 'is for a libSQL server; PostgreSQL credentials go in ANALYTICS_DB_URL',
      },
    ])
  }
  const processedRetentionMs = c.ANALYTICS_PROCESSED_ID_RETENTION_DAYS * DAY_MS
  return Object.freeze({
    ...c,
    dbUrl: c.ANALYTICS_DB_URL ?? `file:${resolve(join(c.DATA_DIR, 'analytics.db'))}`,
    jwksUrl: c.AUTH_JWKS_URL ?? `${serviceUrl('auth', env)}/.well-known/jwks.json`,
    dashboardPublic: c.ANALYTICS_DASHBOARD_PUBLIC ?? c.NODE_ENV !== 'production',
    minuteRetentionMs: c.ANALYTICS_MINUTE_RETENTION_DAYS * DAY_MS,
    hourRetentionMs: c.ANALYTICS_HOUR_RETENTION_DAYS * DAY_MS,
    processedRetentionMs,
    hllHourTtlMs: c.ANALYTICS_HLL_HOUR_TTL_DAYS * DAY_MS,
    hllDayTtlMs: c.ANALYTICS_HLL_DAY_TTL_DAYS * DAY_MS,
  })
}
