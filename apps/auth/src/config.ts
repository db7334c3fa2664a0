/** The auth service's configuration: the only place that reads the environment (via the kit's loadConfig). */
import { baseConfig, type ConfigProblem, devDefault, loadConfig, secretString } from '@flotilla/service-kit'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { t } from 'elysia'
import type { AuthSettings } from './deps.ts'

/** The development-only key-encryption secret. Production refuses it (and any weak secret). */
export const DEV_KEY_ENCRYPTION_SECRET = 'flotilla-dev-only-key-encryption-secret-0123456789'

const seconds = (fallback: number, minimum: number, maximum: number, description: string) =>
  t.Integer({ minimum, maximum, default: fallback, description })

/** Every variable the auth service reads, with defaults (see `.env.example`). */
export const AuthConfigSchema = t.Object({
  ...baseConfig({ port: 3001 }).properties,
  ...TelemetryConfigSchema.properties,
  AUTH_ISSUER: t.String({ minLength: 1, maxLength: 200, default: 'flotilla-auth' }),
  AUTH_AUDIENCE: t.String({ minLength: 1, maxLength: 200, default: 'flotilla' }),
  AUTH_REDIS_PREFIX: t.String({ minLength: 1, maxLength: 100, pattern: '^[^\\s{}]+$', default: 'auth:' }),
  AUTH_KEY_ENCRYPTION_SECRET: devDefault(secretString(t.String(), 32), DEV_KEY_ENCRYPTION_SECRET),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: seconds(900, 30, 3600, 'access-token lifetime'),
  AUTH_SESSION_IDLE_SECONDS: seconds(14 * 86_400, 60, 365 * 86_400, 'sliding session lifetime'),
  AUTH_SESSION_ABSOLUTE_SECONDS: seconds(30 * 86_400, 60, 365 * 86_400, 'hard session lifetime'),
  AUTH_REFRESH_GRACE_SECONDS: seconds(
    10,
    0,
    60,
    'how long the previous refresh token returns the same result',
  ),
  AUTH_KEY_ROTATION_SECONDS: seconds(7 * 86_400, 600, 365 * 86_400, 'how long one signing key signs'),
  AUTH_KEY_PREPUBLISH_SECONDS: seconds(
    3600,
    0,
    7 * 86_400,
    'how long a new key is published before it signs',
  ),
  AUTH_KEY_CHECK_INTERVAL_SECONDS: seconds(60, 1, 3600, 'how often each instance reloads the key ring'),
  AUTH_CLOCK_TOLERANCE_SECONDS: seconds(5, 0, 60, 'clock skew accepted on exp/nbf'),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: seconds(60, 1, 3600, 'rate-limit window'),
  AUTH_REFRESH_LIMIT_PER_IP: t.Integer({ minimum: 1, default: 120 }),
  AUTH_REFRESH_LIMIT_PER_USER: t.Integer({ minimum: 1, default: 30 }),
  AUTH_INTROSPECT_LIMIT_PER_IP: t.Integer({ minimum: 1, default: 6000 }),
  AUTH_INTROSPECT_LIMIT_PER_USER: t.Integer({ minimum: 1, default: 600 }),
  AUTH_TRUSTED_PROXY_HEADER: t.Optional(t.String({ pattern: '^[A-Za-z0-9-]+$', maxLength: 100 })),
})
export type AuthConfig = typeof AuthConfigSchema.static

/** Relations between variables that a schema cannot express. */
const crossChecks = (c: AuthConfig): ConfigProblem[] => {
  const problems: ConfigProblem[] = []
  if (c.AUTH_SESSION_IDLE_SECONDS > c.AUTH_SESSION_ABSOLUTE_SECONDS) {
    problems.push({
      variable: 'AUTH_SESSION_IDLE_SECONDS',
      message: 'must not exceed AUTH_SESSION_ABSOLUTE_SECONDS',
    })
  }
  if (c.AUTH_KEY_PREPUBLISH_SECONDS >= c.AUTH_KEY_ROTATION_SECONDS) {
    problems.push({
      variable: 'AUTH_KEY_PREPUBLISH_SECONDS',
      message: 'must be shorter than AUTH_KEY_ROTATION_SECONDS',
    })
  }
  if (c.AUTH_ACCESS_TOKEN_TTL_SECONDS >= c.AUTH_KEY_ROTATION_SECONDS) {
    problems.push({
      variable: 'AUTH_ACCESS_TOKEN_TTL_SECONDS',
      message: 'must be shorter than AUTH_KEY_ROTATION_SECONDS',
    })
  }
  if (c.NODE_ENV === 'production' && c.AUTH_KEY_ENCRYPTION_SECRET === c.SERVICE_TOKEN_SECRET) {
    problems.push({
      variable: 'AUTH_KEY_ENCRYPTION_SECRET',
      message: 'must differ from SERVICE_TOKEN_SECRET',
    })
  }
  return problems
}

/**
 * Loads and checks the configuration; throws the kit's `ConfigError` (naming every bad variable) on anything wrong, including
 * a missing, default or weak `AUTH_KEY_ENCRYPTION_SECRET` / `SERVICE_TOKEN_SECRET` in production.
 */
export const loadAuthConfig = (env: Readonly<Record<string, string | undefined>> = process.env): AuthConfig =>
  loadConfig(AuthConfigSchema, env, crossChecks)

/** The domain's settings from the configuration. */
export const settingsOf = (c: AuthConfig): AuthSettings => {
  const window = c.AUTH_RATE_LIMIT_WINDOW_SECONDS
  return {
    redisPrefix: c.AUTH_REDIS_PREFIX,
    issuer: c.AUTH_ISSUER,
    audience: c.AUTH_AUDIENCE,
    accessTokenTtlSeconds: c.AUTH_ACCESS_TOKEN_TTL_SECONDS,
    clockToleranceSeconds: c.AUTH_CLOCK_TOLERANCE_SECONDS,
    sessionIdleSeconds: c.AUTH_SESSION_IDLE_SECONDS,
    sessionAbsoluteSeconds: c.AUTH_SESSION_ABSOLUTE_SECONDS,
    refreshGraceSeconds: c.AUTH_REFRESH_GRACE_SECONDS,
    keyEncryptionSecret: c.AUTH_KEY_ENCRYPTION_SECRET,
    keyRotationSeconds: c.AUTH_KEY_ROTATION_SECONDS,
    keyPrepublishSeconds: c.AUTH_KEY_PREPUBLISH_SECONDS,
    keyCheckIntervalSeconds: c.AUTH_KEY_CHECK_INTERVAL_SECONDS,
    rateLimits: {
      'refresh:ip': { points: c.AUTH_REFRESH_LIMIT_PER_IP, windowSeconds: window },
      'refresh:user': { points: c.AUTH_REFRESH_LIMIT_PER_USER, windowSeconds: window },
      'introspect:ip': { points: c.AUTH_INTROSPECT_LIMIT_PER_IP, windowSeconds: window },
      'introspect:user': { points: c.AUTH_INTROSPECT_LIMIT_PER_USER, windowSeconds: window },
    },
  }
}
