/** Typed feature flags: each declared with a default and a description, read from `FEATURE_<NAME>`. */
import { Type } from '@sinclair/typebox'
import type { Env } from '../config/load-config.ts'
import { loadConfig } from '../config/load-config.ts'
import type { FeatureFlag } from './declaration.ts'

/** `newSignInDigest` → `FEATURE_NEW_SIGN_IN_DIGEST`. */
export const featureVariable = (name: string): string =>
  `FEATURE_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`

/**
 * Reads every declared flag (`true`/`false`, `1`/`0`, `on`/`off`); an unset one takes its default. Throws the
 * kit's `ConfigError` naming each variable that is not a boolean.
 */
export const readFeatures = <F extends Record<string, FeatureFlag>>(
  flags: F,
  env: Env,
): Record<keyof F, boolean> => {
  const names = Object.keys(flags) as (keyof F & string)[]
  const schema = Type.Object(
    Object.fromEntries(
      Object.entries(flags).map(([name, flag]) => [
        featureVariable(name),
        Type.Boolean({ default: flag.default, description: flag.description }),
      ]),
    ),
  )
  const values = loadConfig(schema, env) as Record<string, boolean>
  return Object.fromEntries(names.map((name) => [name, values[featureVariable(name)] === true])) as Record<
    keyof F,
    boolean
  >
}
