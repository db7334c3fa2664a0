/** The audit service's configuration: the only place that reads the environment (via the kit's loadConfig). */
import {
  baseConfig,
  ConfigError,
  type ConfigProblem,
  isPostgresUrl,
  loadConfig,
  serviceUrl,
} from '@flotilla/service-kit'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { t } from 'elysia'
import { parseRetentionOverrides, type RetentionPolicy } from './retention/policy.ts'
import type { StoreSettings } from './store/open.ts'

// Elysia's t.Integer also accepts numeric strings (made for query strings), so the kit's env conversion
// would leave "30" a string; a whole t.Number converts and checks as expected.
const int = (options: { minimum: number; maximum: number; default: number }) =>
  t.Number({ multipleOf: 1, ...options })

/** Every variable the audit service reads, with defaults (see `.env.example`). */
export const AuditConfigSchema = t.Object({
  ...baseConfig({ port: 3003 }).properties,
  ...TelemetryConfigSchema.properties,
  // Unset: PostgreSQL when AUDIT_DB_URL is a postgres:// URL, else libSQL.
  AUDIT_STORE: t.Optional(t.Union([t.Literal('libsql'), t.Literal('postgres'), t.Literal('mongodb')])),
  AUDIT_DB_URL: t.Optional(t.String({ pattern: '^(file:|libsql://|https?://|wss?://|postgres(ql)?://)' })),
  AUDIT_DB_AUTH_TOKEN: t.Optional(t.String({ minLength: 1 })),
  MONGODB_URL: t.Optional(t.String({ pattern: '^mongodb(\\+srv)?://' })),
  MONGODB_DB: t.Optional(t.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
  AUDIT_REDIS_PREFIX: t.String({ minLength: 1, maxLength: 100, pattern: '^[^\\s{}]+$', default: 'audit:' }),
  AUDIT_BATCH_SIZE: int({ minimum: 1, maximum: 1000, default: 200 }),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: int({ minimum: 0, maximum: 86_400, default: 60 }),
  AUDIT_RETENTION_DAYS: int({ minimum: 0, maximum: 36_500, default: 0 }),
  AUDIT_RETENTION_OVERRIDES: t.String({ default: '' }),
  AUDIT_RETENTION_INTERVAL_SECONDS: int({ minimum: 0, maximum: 7 * 86_400, default: 3600 }),
  AUDIT_EXPORT_PAGE_SIZE: int({ minimum: 10, maximum: 5000, default: 1000 }),
  AUTH_JWKS_URL: t.Optional(t.String({ pattern: '^https?://' })),
  AUTH_ISSUER: t.String({ minLength: 1, default: 'flotilla-auth' }),
  AUTH_AUDIENCE: t.String({ minLength: 1, default: 'flotilla' }),
})
export type AuditConfig = typeof AuditConfigSchema.static

/** The variables plus what the app derives from them. */
export interface AuditSettings extends AuditConfig {
  readonly store: StoreSettings
  readonly retention: RetentionPolicy
  readonly jwksUrl: string
}

/**
 * Loads and checks the configuration; throws naming every bad variable (a missing `MONGODB_URL` with
 * `AUDIT_STORE=mongodb`, a store and a URL that disagree, a malformed `AUDIT_RETENTION_OVERRIDES`, or
 * anything the kit refuses). Messages never echo a value: URLs carry passwords.
 */
export const loadAuditConfig = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuditSettings => {
  const config = loadConfig(AuditConfigSchema, env)
  const problems: ConfigProblem[] = []
  let overrides = new Map<string, number>()
  try {
    overrides = parseRetentionOverrides(config.AUDIT_RETENTION_OVERRIDES)
  } catch (error) {
    problems.push({ variable: 'AUDIT_RETENTION_OVERRIDES', message: (error as Error).message })
  }
  const postgresUrl = isPostgresUrl(config.AUDIT_DB_URL)
  const kind = config.AUDIT_STORE ?? (postgresUrl ? 'postgres' : 'libsql')
  if (kind === 'mongodb' && !config.MONGODB_URL) {
    problems.push({ variable: 'MONGODB_URL', message: 'is required when AUDIT_STORE=mongodb' })
  }
  if (kind === 'postgres' && !postgresUrl) {
    problems.push({
      variable: 'AUDIT_DB_URL',
      message: 'must be a postgres:// or postgresql:// URL when AUDIT_STORE=postgres',
    })
  }
  if (kind === 'libsql' && postgresUrl) {
    problems.push({
      variable: 'AUDIT_STORE',
      message: 'is libsql but AUDIT_DB_URL is a PostgreSQL URL (set AUDIT_STORE=postgres, or leave it unset)',
    })
  }
  if (kind === 'postgres' && config.AUDIT_DB_AUTH_TOKEN) {
    problems.push({
      variable: 'AUDIT_DB_AUTH_TOKEN',
      message: 'is for a libSQL server; PostgreSQL credentials go in AUDIT_DB_URL',
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const store: StoreSettings =
    kind === 'mongodb'
      ? {
          kind: 'mongodb',
          url: config.MONGODB_URL as string,
          ...(config.MONGODB_DB ? { dbName: config.MONGODB_DB } : {}),
        }
      : kind === 'postgres'
        ? { kind: 'postgres', url: config.AUDIT_DB_URL as string }
        : {
            kind: 'libsql',
            url: config.AUDIT_DB_URL ?? `file:${config.DATA_DIR.replace(/\/$/, '')}/audit.db`,
            ...(config.AUDIT_DB_AUTH_TOKEN ? { authToken: config.AUDIT_DB_AUTH_TOKEN } : {}),
          }
  return Object.freeze({
    ...config,
    store,
    retention: { defaultDays: config.AUDIT_RETENTION_DAYS, overrides },
    jwksUrl: config.AUTH_JWKS_URL ?? `${serviceUrl('auth', env)}/.well-known/jwks.json`,
  })
}
