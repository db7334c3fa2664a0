/**
 * A PostgreSQL store's connection as a service holds it: the pool opens at once, the boot work (checks and
 * migrations) runs in the background and is retried with backoff until it succeeds, so a database that is
 * down at boot makes the service unready (`/ready` 503 naming the database), never a crash loop. Every
 * store call first asks `usable()`, which fails fast with 503 `DEPENDENCY_UNAVAILABLE` until then.
 */
import postgres, { type Sql } from 'postgres'
import { dependencyUnavailable } from '../errors/app-error.ts'
import type { Migration } from '../libsql/migrate.ts'
import type { Logger } from '../logging/logger.ts'
import { migratePostgres, type PostgresMigrateOptions } from './migrate.ts'

export interface PostgresConnectionOptions extends PostgresMigrateOptions {
  /** `postgres://user:pass@host:5432/db`; query parameters other than the driver's own are session settings. */
  readonly url: string
  /** What the store is called in messages and `application_name` (`analytics`). */
  readonly store: string
  readonly migrations: readonly Migration[]
  /** Extra session settings (tests use `{ search_path }`). */
  readonly connection?: Readonly<Record<string, string>>
  /** Connections in the pool. @defaultValue the URL's `max`, else 10 */
  readonly max?: number
  /** Runs before the migrations on each attempt (a check of the server, say); a throw is retried too. */
  readonly prepare?: (sql: Sql) => Promise<void>
  /** More postgres.js type parsers (notifications keeps json as text, as libSQL returns it). */
  readonly types?: Readonly<
    Record<
      string,
      { to: number; from: readonly number[]; serialize(x: unknown): unknown; parse(x: string): unknown }
    >
  >
  /** Logs each failed boot attempt (warn) and the recovery (info). */
  readonly logger?: Pick<Logger, 'warn' | 'info'>
  /** First and largest wait between boot attempts. @defaultValue 250 ms, 15 s */
  readonly backoffMs?: { readonly first: number; readonly max: number }
}

export interface PostgresConnection {
  readonly sql: Sql
  /** `postgres://host:port/db` without credentials: how messages name the database. */
  readonly name: string
  /** Resolves once migrated; rejects with the first boot failure (for callers that want it to throw). */
  readonly migrated: Promise<void>
  /** Resolves when migrated; else throws 503 `DEPENDENCY_UNAVAILABLE` naming the database and the last error. */
  usable(): Promise<void>
  /** The readiness check: a round trip once migrated, else the boot failure. */
  check(): Promise<string>
  /** Stops retrying and ends the pool. Safe to call twice. */
  close(): Promise<void>
}

/** Whether a store URL names PostgreSQL (`postgres://` or `postgresql://`), which selects the PostgreSQL store. */
export const isPostgresUrl = (url: string | undefined): boolean =>
  url !== undefined && /^postgres(ql)?:\/\//.test(url)

/** The URL without its credentials and query: safe to log and show in `/ready`. */
export const databaseName = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/**
 * A value as PostgreSQL can bind it: `text` cannot hold NUL, so a string's NULs become U+FFFD (as libSQL stores
 * a lone surrogate), for writes and query parameters alike, so a query finds what a write stored.
 */
export const postgresText = (value: unknown): unknown =>
  typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value

// postgres.js returns int8 and numeric as strings (they can exceed 2^53); these columns hold epoch
// milliseconds and counts, so numbers, as the libSQL twins return them, keep every caller dialect-free.
const NUMBER_TYPES = {
  int8: { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x) },
  numeric: { to: 1700, from: [1700], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x) },
}

/**
 * Opens the pool and starts the boot attempts (prepare, then migrate under the advisory lock).
 * @example const pg = openPostgres({ url, store: 'analytics', migrations, table: 'analytics_schema_migrations', lockName: 'flotilla.analytics.migrate' })
 */
export const openPostgres = (options: PostgresConnectionOptions): PostgresConnection => {
  const name = databaseName(options.url)
  const sql = postgres(options.url, {
    ...(options.max === undefined ? {} : { max: options.max }),
    onnotice: () => {},
    types: { ...NUMBER_TYPES, ...options.types },
    // A down database must not hold a boot attempt or a readiness check for the driver's default 30 s.
    connect_timeout: 5,
    // Named in pg_stat_activity; the URL's own parameters still win.
    connection: { application_name: `flotilla-${options.store}`, ...options.connection },
  }) as unknown as Sql
  const { first, max } = options.backoffMs ?? { first: 250, max: 15_000 }
  let lastError: unknown
  let ready = false
  let closed = false
  let wake: (() => void) | undefined

  const attempt = async () => {
    await options.prepare?.(sql)
    await migratePostgres(sql, options.migrations, options)
  }
  let firstFailure: ((error: unknown) => void) | undefined
  const migrated = new Promise<void>((resolve, reject) => {
    firstFailure = reject
    void (async () => {
      for (let wait = first, n = 1; !closed; wait = Math.min(max, wait * 2), n++) {
        try {
          await attempt()
          ready = true
          if (n > 1) options.logger?.info({ database: name, attempts: n }, `${options.store} database ready`)
          resolve()
          return
        } catch (error) {
          lastError = error
          firstFailure?.(error)
          firstFailure = undefined
          if (closed) return
          options.logger?.warn(
            { database: name, err: error, retryInMs: wait },
            `${options.store} database not ready, retrying`,
          )
          await new Promise<void>((r) => {
            const timer = setTimeout(r, wait)
            wake = () => {
              clearTimeout(timer)
              r()
            }
          })
        }
      }
    })()
  })
  // The first failure is for callers that await `migrated`; the service keeps going without one.
  migrated.catch(() => {})

  const unavailable = () => {
    const why = lastError instanceof Error ? lastError.message : 'connecting'
    return new Error(`${options.store} database ${name} unavailable: ${why}`)
  }
  let closing: Promise<void> | undefined
  return {
    sql,
    name,
    migrated,
    async usable() {
      if (ready) return
      if (closed) throw new Error(`${options.store} database ${name} is closed`)
      throw dependencyUnavailable(`the ${options.store} database`, { cause: unavailable() })
    },
    async check() {
      if (!ready) throw unavailable()
      await sql`SELECT 1`
      return name
    },
    close() {
      closed = true
      wake?.()
      closing ??= sql.end({ timeout: 5 })
      return closing
    },
  }
}

/**
 * Waits for the boot (prepare and migrations) when `wait`, closing the connection and throwing its failure when
 * it fails: what tests and tools want. Without `wait` the service boots and retries in the background.
 */
export const migratedUnless = async (connection: PostgresConnection, wait: boolean | undefined) => {
  if (wait === false) return
  try {
    await connection.migrated
  } catch (error) {
    await connection.close()
    throw error
  }
}

/**
 * The store with every method waiting for `usable()` first, so a call before the database came up fails fast
 * (503) instead of queueing in the pool. Every method of `store` must return a promise; `close`, `check` and
 * the keys in `passThrough` (a driver handle, say) are left as they are.
 */
export const whenUsable = <T extends object>(
  connection: Pick<PostgresConnection, 'usable'>,
  store: T,
  passThrough: readonly PropertyKey[] = [],
): T => {
  const left = new Set<PropertyKey>(['close', 'check', ...passThrough])
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || left.has(property)) return value
      return async (...args: unknown[]) => {
        await connection.usable()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}
