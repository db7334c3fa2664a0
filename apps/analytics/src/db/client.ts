/**
 * Opens the analytics database: a libSQL file by default (or a `libsql://` server), PostgreSQL when the URL
 * is `postgres://` (shared by every analytics machine).
 */
import { isPostgresUrl, type Logger } from '@flotilla/service-kit'
import { openLibsqlDatabase } from './libsql.ts'
import { openPostgresDatabase } from './postgres.ts'
import type { Database } from './types.ts'

export type { Database, Db } from './types.ts'

export interface OpenDatabaseOptions {
  readonly url: string
  readonly authToken?: string
  /** PostgreSQL only: wait for the migrations and throw their failure (tests, tools). @defaultValue true */
  readonly wait?: boolean
  readonly logger?: Pick<Logger, 'warn' | 'info'>
}

/**
 * Opens and migrates the database. PostgreSQL with `wait: false` resolves at once and keeps retrying in the
 * background (the service's `/ready` names the database until it is up).
 */
export const openDatabase = (options: OpenDatabaseOptions): Promise<Database> =>
  isPostgresUrl(options.url) ? openPostgresDatabase(options) : openLibsqlDatabase(options)
