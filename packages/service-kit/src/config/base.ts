/** The variables every Flotilla app shares (docs/pitfalls.md, "Conventions every app follows"). */

import { DEFAULT_EVENTS_STREAM, parseKeyRing } from '@flotilla/contracts'
import { redisNodeUrls } from '@flotilla/streams'
import { type Static, Type } from '@sinclair/typebox'
import { LOG_LEVELS } from '../logging/logger.ts'
import { devDefault, requiredInProduction, withCheck } from './fields.ts'

/** The development-only service token secret. Production refuses it. */
export const DEV_SERVICE_TOKEN_SECRET = 'flotilla-dev-only-service-token-secret-0123456789'

const MIN_DISTINCT_BYTES = 8

const keyRing = withCheck(Type.String(), (value, { production }) => {
  if (typeof value !== 'string') return undefined
  try {
    const ring = parseKeyRing(value)
    if (production && [...ring.keys.values()].some((key) => new Set(key).size < MIN_DISTINCT_BYTES)) {
      return 'is too weak (a secret has too few distinct characters)'
    }
    return undefined
  } catch (error) {
    return (error as Error).message
  }
})

export interface BaseConfigOptions {
  /** The app's default `PORT` (auth 3001, notifications 3002, audit 3003, analytics 3004). @defaultValue 3000 */
  readonly port?: number
}

/**
 * The shared variables with this app's default port. Compose with the app's own fields (do not
 * redeclare a shared one: `Type.Composite` would intersect the two definitions):
 * @example
 * export const AuthConfig = Type.Composite([baseConfig({ port: 3001 }), Type.Object({ ACCESS_TOKEN_TTL_SECONDS: ... })])
 * export const config = loadConfig(AuthConfig)
 */
export const baseConfig = ({ port = 3000 }: BaseConfigOptions = {}) =>
  Type.Object({
    NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
      default: 'development',
    }),
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: port }),
    // Required in production: a missing REDIS_URL otherwise meant a local Redis that is not there, and an app
    // that never became ready instead of one that says what is wrong.
    // With REDIS_CLUSTER=true: one or more seed nodes of the cluster, comma-separated.
    REDIS_URL: requiredInProduction(
      withCheck(Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }), (value) => {
        if (typeof value !== 'string') return undefined
        try {
          redisNodeUrls({ url: value, cluster: true })
          return undefined
        } catch (error) {
          return (error as Error).message
        }
      }),
    ),
    /** Talk to a Redis Cluster (ioredis' `Cluster`) at the nodes REDIS_URL names. */
    REDIS_CLUSTER: Type.Boolean({ default: false }),
    EVENTS_STREAM: Type.String({ minLength: 1, pattern: '^[^\\s{}]+$', default: DEFAULT_EVENTS_STREAM }),
    /** HS256 key ring for service tokens: one secret, or `kid=secret,kid=secret` (first signs). */
    SERVICE_TOKEN_SECRET: devDefault(keyRing, DEV_SERVICE_TOKEN_SECRET),
    DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
    LOG_LEVEL: Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { default: 'info' },
    ),
  })

/** The shared variables with the generic default port 3000. */
export const BaseConfigSchema = baseConfig()
export type BaseConfig = Static<typeof BaseConfigSchema>
