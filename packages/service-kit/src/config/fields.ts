/** Schema helpers for config fields: development-only defaults and custom checks. */
import type { Static, TSchema } from '@sinclair/typebox'

/** Schema keyword marking a default that only applies outside production. */
export const DEV_DEFAULT = 'x-dev-default'
/** Schema keyword marking a default that only applies outside production, where any valid value may be set. */
export const PRODUCTION_REQUIRED = 'x-production-required'
/** Schema keyword holding an extra check: `(value, { production }) => problem | undefined`. */
export const CHECK = 'x-check'

export interface CheckContext {
  readonly production: boolean
}
export type FieldCheck = (value: unknown, context: CheckContext) => string | undefined

/**
 * Gives a field a default used only outside production. With `NODE_ENV=production` the variable must be
 * set, and setting it to this very default is refused too (a copied `.env.example` must not reach production).
 * @example SESSION_SECRET: devDefault(Type.String({ minLength: 32 }), 'dev-only-session-secret-0123456789ab')
 */
export const devDefault = <T extends TSchema>(schema: T, value: Static<T>): T =>
  ({ ...schema, default: value, [DEV_DEFAULT]: true }) as T

/**
 * Gives a field a default used only outside production, where it must be set explicitly; unlike `devDefault`,
 * setting it to that same value is fine (a local Redis beside the app is a real deployment).
 * @example REDIS_URL: requiredInProduction(Type.String({ default: 'redis://127.0.0.1:6379' }))
 */
export const requiredInProduction = <T extends TSchema>(schema: T): T =>
  ({ ...schema, [PRODUCTION_REQUIRED]: true }) as T

/**
 * Adds a check TypeBox cannot express (parsing a key ring, entropy in production). Return a problem
 * message, or undefined when the value is fine.
 */
export const withCheck = <T extends TSchema>(schema: T, check: FieldCheck): T => {
  const previous = (schema as Record<string, unknown>)[CHECK] as FieldCheck | undefined
  const combined: FieldCheck = (value, context) => previous?.(value, context) ?? check(value, context)
  return { ...schema, [CHECK]: combined } as T
}

const MIN_DISTINCT_BYTES = 8

/**
 * A secret string: at least `minBytes` bytes; in production also at least 8 distinct bytes so
 * `aaaaaaaa…` or `000000…` cannot pass as a secret.
 */
export const secretString = <T extends TSchema>(schema: T, minBytes = 32): T =>
  withCheck(schema, (value, { production }) => {
    if (typeof value !== 'string') return undefined
    const bytes = new TextEncoder().encode(value)
    if (bytes.byteLength < minBytes) return `must be at least ${minBytes} bytes (got ${bytes.byteLength})`
    if (production && new Set(bytes).size < MIN_DISTINCT_BYTES)
      return 'is too weak (too few distinct characters)'
    return undefined
  })
