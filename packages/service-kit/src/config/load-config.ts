/** Loads configuration from the environment once, at boot: convert, default, validate, freeze. */
import type { Static, TObject, TSchema } from '@sinclair/typebox'
import { FormatRegistry, OptionalKind } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError, type ConfigProblem } from './config-error.ts'
import { CHECK, DEV_DEFAULT, type FieldCheck, PRODUCTION_REQUIRED } from './fields.ts'

/** The environment shape `loadConfig` reads (defaults to `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>

type Schemaish = TSchema & { type?: string; items?: Schemaish; default?: unknown; [key: string]: unknown }

// TypeBox knows no string formats until someone registers them (Elysia does, when it is loaded); config
// loads first, so the formats config fields use are registered here when missing.
const FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  uri: (value) => URL.canParse(value),
  url: (value) => URL.canParse(value),
  email: (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
}
for (const [name, check] of Object.entries(FORMATS))
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check)

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i

// Elysia's `t.Integer` / `t.Numeric` / `t.BooleanString` are unions of the JSON type and a numeric (or boolean)
// string: convert to the JSON type, or the value would pass validation and stay a string.
const jsonTypeOf = (schema: Schemaish): string | undefined =>
  schema.type ??
  (schema.anyOf as Schemaish[] | undefined)?.find(
    (member) => member.type !== undefined && member.type !== 'string',
  )?.type

// Turns one env string into the schema's JSON type; leaves it as is when it does not fit so the
// validator reports it with the variable's name.
const convert = (schema: Schemaish, raw: string): unknown => {
  const value = raw.trim()
  switch (jsonTypeOf(schema)) {
    case 'number':
    case 'integer':
      return NUMERIC.test(value) ? Number(value) : value
    case 'boolean': {
      const lower = value.toLowerCase()
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : value
    }
    case 'array': {
      const items = value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
      return schema.items ? items.map((item) => convert(schema.items as Schemaish, item)) : items
    }
    default:
      return value
  }
}

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

const describe = (schema: Schemaish, value: unknown): string => {
  const first = Value.Errors(schema, value).First()
  if (!first) return 'is invalid'
  const where = first.path ? ` (at ${first.path})` : ''
  return `${first.message.charAt(0).toLowerCase()}${first.message.slice(1)}${where}`
}

/**
 * Reads every field of `schema` from `env`, converts strings (numbers, booleans, comma-separated lists),
 * applies defaults (development-only ones only outside production), validates, and returns a deep-frozen
 * typed object. Throws `ConfigError` listing every bad variable at once; values are never echoed, so
 * secrets do not end up in logs. Empty strings count as unset.
 * @example const config = loadConfig(Type.Composite([baseConfig({ port: 3001 }), AuthConfig]))
 */
export const loadConfig = <T extends TObject>(
  schema: T,
  env: Env = process.env,
  /** Relations between variables a schema cannot express; run only when every variable is valid. */
  checks?: (config: Readonly<Static<T>>) => readonly ConfigProblem[],
): Readonly<Static<T>> => {
  const production = env.NODE_ENV?.trim() === 'production'
  const problems: ConfigProblem[] = []
  const config: Record<string, unknown> = {}
  for (const [variable, fieldSchema] of Object.entries(schema.properties)) {
    const field = fieldSchema as Schemaish
    const devOnly = field[DEV_DEFAULT] === true
    // Either kind of development-only default: unset in production is a problem.
    const noDefaultInProduction = production && (devOnly || field[PRODUCTION_REQUIRED] === true)
    const raw = env[variable]
    let value: unknown
    if (raw === undefined || raw.trim() === '') {
      if (field.default !== undefined && !noDefaultInProduction) value = structuredClone(field.default)
      else if (OptionalKind in field) continue
      else {
        problems.push({
          variable,
          message: noDefaultInProduction
            ? 'must be set in production (its default is for development only)'
            : 'is required but not set',
        })
        continue
      }
    } else {
      value = convert(field, raw)
      if (production && devOnly && Value.Equal(value, field.default)) {
        problems.push({ variable, message: 'uses the development default, which production refuses' })
        continue
      }
    }
    if (!Value.Check(field, value)) {
      problems.push({ variable, message: describe(field, value) })
      continue
    }
    const extra = (field[CHECK] as FieldCheck | undefined)?.(value, { production })
    if (extra) {
      problems.push({ variable, message: extra })
      continue
    }
    config[variable] = value
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const checked = deepFreeze(config) as Readonly<Static<T>>
  const crossProblems = checks?.(checked) ?? []
  if (crossProblems.length > 0) throw new ConfigError(crossProblems)
  return checked
}

/**
 * For `main.ts`: like `loadConfig`, but a `ConfigError` is printed to stderr (every problem, no values)
 * and the process exits with code 1. Any other error is rethrown.
 */
export const loadConfigOrExit = <T extends TObject>(
  schema: T,
  env: Env = process.env,
): Readonly<Static<T>> => {
  try {
    return loadConfig(schema, env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}
