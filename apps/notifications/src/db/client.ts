/**
 * Opens the database — a libSQL file by default, a libSQL server, or PostgreSQL for a `postgres://` URL (shared
 * by every notifications machine) — and migrates it.
 */
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  isPostgresUrl,
  type Logger,
  type Migration,
  Mutex,
  migrate,
  migratedUnless,
  openPostgres,
  postgresDdlOf,
  queueClient,
  retryWhileBusy as retryBusy,
} from '@flotilla/service-kit'
import { type Client, createClient } from '@libsql/client'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { createLocalClient } from './local-client.ts'
import { MIGRATIONS } from './migrations.ts'
import { libsqlClientOver } from './postgres-client.ts'

export type Db = LibSQLDatabase<Record<string, never>> & { readonly $client: Client }

export interface Database {
  readonly db: Db
  /** libSQL's client (on PostgreSQL, the same surface over the pool: `postgres-client.ts`). */
  readonly client: Client
  /** The readiness check: a round trip, or why the database cannot be reached (PostgreSQL names it). */
  check(): Promise<unknown>
  /** Safe to call twice. PostgreSQL: the pool ends in the background (within 5 s). */
  close(): void
}

export interface OpenDatabaseOptions {
  /** `file:/path/notifications.db` or `libsql://…` */
  readonly url: string
  readonly authToken?: string
  /** @defaultValue MIGRATIONS */
  readonly migrations?: readonly Migration[]
  /** PostgreSQL only: wait for the migrations and throw their failure (tests, tools). @defaultValue true */
  readonly wait?: boolean
  readonly logger?: Pick<Logger, 'warn' | 'info'>
}

/** How the kit opens and migrates this store (the opener below and the copy command share it). */
export const NOTIFICATIONS_POSTGRES = {
  store: 'notifications',
  migrations: postgresDdlOf(MIGRATIONS),
  table: 'notifications_schema_migrations',
  lockName: 'flotilla.notifications.migrate',
  // json stays text, as libSQL returns it (the delivery store parses its one-column rows itself).
  types: { json: { to: 114, from: [114], serialize: (x: unknown) => x, parse: (x: string) => x } },
} as const

/**
 * PostgreSQL: the libSQL migrations' DDL translated by the kit, migrated under its advisory lock (retried in
 * the background with `wait: false`, so the service boots and `/ready` names the database until it is up).
 */
const openPostgresDatabase = async (options: OpenDatabaseOptions): Promise<Database> => {
  const connection = openPostgres({
    url: options.url,
    ...NOTIFICATIONS_POSTGRES,
    ...(options.migrations ? { migrations: postgresDdlOf(options.migrations) } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  await migratedUnless(connection, options.wait)
  const client = libsqlClientOver(connection.sql, connection.usable, connection.close)
  return {
    db: drizzle(client),
    client,
    check: () => connection.check(),
    close() {
      void connection.close()
    },
  }
}

const BUSY_DEADLINE_MS = 20_000

/** Retries a write while another process holds the file's write lock (the kit's retry, 20 s deadline). */
export const retryWhileBusy = <T>(fn: () => Promise<T>): Promise<T> =>
  retryBusy(fn, { deadlineMs: BUSY_DEADLINE_MS })

/**
 * Opens and migrates the database. A local file gets one connection used by one caller at a time, so its
 * settings hold for every statement: WAL, `synchronous = FULL`, a short native busy timeout (for other
 * processes on the file; this process queues in JavaScript).
 *
 * Why one connection: `PRAGMA busy_timeout` is per connection, and the local client's pool opens more
 * connections on demand (up to 20) without it — so most statements ran with no busy timeout, on connections
 * whose page caches another connection's writes kept emptying.
 * Statements run synchronously on the event loop anyway, so a second connection never ran anything in parallel.
 * Why every call queues: the single connection belongs to an open transaction until it commits, and the client
 * refuses (`TRANSACTION_ACTIVE`) any other call meanwhile; here it waits its turn instead.
 */
export const openDatabase = async (options: OpenDatabaseOptions): Promise<Database> => {
  if (isPostgresUrl(options.url)) return openPostgresDatabase(options)
  const local = options.url.startsWith('file:')
  if (local) await mkdir(dirname(options.url.slice('file:'.length)), { recursive: true })
  // A local file: one connection whose statements stay prepared (`local-client.ts`).
  const raw = local
    ? createLocalClient(options.url.slice('file:'.length), { timeout: 50 })
    : createClient({ url: options.url, ...(options.authToken ? { authToken: options.authToken } : {}) })
  const client = local ? queueClient(raw, new Mutex(), { reads: 'queue' }) : raw
  if (local) {
    await retryWhileBusy(() => client.execute('PRAGMA journal_mode = WAL'))
    // WAL + FULL (SQLite's default, set explicitly): every commit is on disk before it returns, so an event
    // is acknowledged only once what it wrote (the delivery, the outbox message) survives a power cut too.
    await client.execute('PRAGMA synchronous = FULL')
  }
  await migrate(client, options.migrations ?? MIGRATIONS, { busy: { deadlineMs: BUSY_DEADLINE_MS } })
  let closed = false
  return {
    db: drizzle(client),
    client,
    check: () => client.execute('SELECT 1'),
    close() {
      if (closed) return
      closed = true
      client.close()
    },
  }
}
