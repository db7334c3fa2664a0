/** The monolith's Flotilla settings from its environment: validated once, every problem listed at once. */
import { parseKeyRing } from '@flotilla/contracts'
import { redisNodeUrls } from '@flotilla/streams'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * The development-only service token secret: the same value the services default to, so a local stack works
 * without setup. Refused when `NODE_ENV=production`.
 */
export const DEV_SERVICE_TOKEN_SECRET = 'flotilla-dev-only-service-token-secret-0123456789'

export const FlotillaConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  }),
  /** One Redis, or with `REDIS_CLUSTER=true` one or more Redis Cluster nodes, comma-separated. */
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  /** `true`: REDIS_URL names the nodes of a Redis Cluster. */
  REDIS_CLUSTER: Type.Boolean({ default: false }),
  EVENTS_STREAM: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s{}]+$', default: 'events' }),
  /** HS256 secret(s) for service tokens: one secret, or `kid=secret,kid=secret` (the first signs). */
  SERVICE_TOKEN_SECRET: Type.String({ default: DEV_SERVICE_TOKEN_SECRET }),
  /** The name the monolith signs service tokens and events with. */
  SERVICE_NAME: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', default: 'monolith' }),
  AUTH_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:3001' }),
})
export type FlotillaConfig = Static<typeof FlotillaConfigSchema>

/** One or more configuration problems, each naming its variable; never shows a secret's value. */
export class FlotillaConfigError extends Error {
  override readonly name = 'FlotillaConfigError'
  readonly code = 'CONFIG_INVALID'
  constructor(readonly problems: readonly { readonly variable: string; readonly message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`)
  }
}

/**
 * Reads the Flotilla variables from an environment record (pass `process.env` from your own config module).
 * @example const flotilla = loadFlotillaConfig(process.env)
 */
export const loadFlotillaConfig = (
  env: Readonly<Record<string, string | undefined>>,
): Readonly<FlotillaConfig> => {
  const keys = Object.keys(FlotillaConfigSchema.properties)
  const picked: Record<string, unknown> = Object.fromEntries(
    keys.flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])),
  )
  // A boolean variable is the text `true` or `false`; anything else stays text and fails the schema, named.
  if (picked.REDIS_CLUSTER === 'true' || picked.REDIS_CLUSTER === 'false')
    picked.REDIS_CLUSTER = picked.REDIS_CLUSTER === 'true'
  const value = Value.Default(FlotillaConfigSchema, picked)
  const problems = [...Value.Errors(FlotillaConfigSchema, value)].map((e) => ({
    variable: e.path.slice(1) || '(root)',
    message: e.path.includes('SECRET') ? 'is invalid' : e.message,
  }))
  const config = value as FlotillaConfig
  if (problems.length === 0) {
    try {
      redisNodeUrls({ url: config.REDIS_URL, cluster: config.REDIS_CLUSTER })
    } catch (cause) {
      problems.push({ variable: 'REDIS_URL', message: (cause as Error).message })
    }
    try {
      parseKeyRing(config.SERVICE_TOKEN_SECRET)
    } catch (cause) {
      problems.push({ variable: 'SERVICE_TOKEN_SECRET', message: (cause as Error).message })
    }
    if (config.NODE_ENV === 'production' && config.SERVICE_TOKEN_SECRET.includes(DEV_SERVICE_TOKEN_SECRET)) {
      problems.push({
        variable: 'SERVICE_TOKEN_SECRET',
        message: 'is the development default; set a real secret',
      })
    }
  }
  if (problems.length > 0) throw new FlotillaConfigError(problems)
  return Object.freeze(config)
}
