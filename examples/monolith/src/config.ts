/** The monolith's configuration: the only module that reads the environment. */
import { type FlotillaConfig, loadFlotillaConfig } from '@flotilla/sdk'

export interface MonolithConfig extends FlotillaConfig {
  /** HTTP port. @defaultValue 3000 */
  readonly PORT: number
  /** PostgreSQL connection string. @defaultValue 'postgres://postgres@127.0.0.1:5432/test' */
  readonly DATABASE_URL: string
  /** The schema the monolith's tables and the outbox live in. @defaultValue 'public' */
  readonly DATABASE_SCHEMA: string
  /** Run the outbox relay in this process. @defaultValue true */
  readonly OUTBOX_RELAY: boolean
  /** The relay's fallback poll interval when no NOTIFY arrives. @defaultValue 1000 */
  readonly OUTBOX_POLL_MS: number
  /**
   * The version of `user.password.changed` this monolith publishes: 1 until every consumer handles 2 (consumers
   * are deployed first, producers after; see ARCHITECTURE.md, "Changing an event"). @defaultValue 2
   */
  readonly PASSWORD_CHANGED_VERSION: 1 | 2
}

type Env = Readonly<Record<string, string | undefined>>

/** Parses the environment once; throws listing every bad variable (the Flotilla ones first). */
export const loadConfig = (env: Env = process.env): MonolithConfig => {
  const flotilla = loadFlotillaConfig(env)
  const problems: string[] = []
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max)
      problems.push(`${name} must be an integer in [${min}, ${max}]`)
    return n
  }
  const schema = env.DATABASE_SCHEMA || 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    problems.push('DATABASE_SCHEMA must be a plain lower-case identifier')
  const databaseUrl = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// URL')
  const relay = env.OUTBOX_RELAY || 'true'
  if (relay !== 'true' && relay !== 'false') problems.push('OUTBOX_RELAY must be true or false')
  const config: MonolithConfig = {
    ...flotilla,
    PORT: integer('PORT', 3000, 0, 65_535),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    OUTBOX_RELAY: relay === 'true',
    OUTBOX_POLL_MS: integer('OUTBOX_POLL_MS', 1000, 10, 3_600_000),
    PASSWORD_CHANGED_VERSION: integer('PASSWORD_CHANGED_VERSION', 2, 1, 2) as 1 | 2,
  }
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`)
  return Object.freeze(config)
}

/** For entry points: a bad configuration prints what is wrong (never a secret) and exits with status 1. */
export const loadConfigOrExit = (): MonolithConfig => {
  try {
    return loadConfig()
  } catch (error) {
    console.error((error as Error).message)
    process.exit(1)
  }
}
