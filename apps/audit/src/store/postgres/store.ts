/**
 * PostgreSQL audit store: drizzle over postgres.js (porsager/postgres, the driver the SDK's outbox already
 * uses). Migrated at boot under the kit's advisory lock (`openPostgres`), retried until the database answers; appends serialized per chain by transaction
 * advisory locks (append.ts); append-only enforced by triggers (migrations.ts).
 */
import { type Logger, migratedUnless, openPostgres, whenUsable } from '@flotilla/service-kit'
import { and, eq, lte, sql } from 'drizzle-orm'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import type { Sql } from 'postgres'
import type { RecordInput } from '../../records/model.ts'
import { type Builders, relationalQueries } from '../relational.ts'
import type { GroupedQuery } from '../sql-parts.ts'
import type { AppendResult, AuditStore } from '../types.ts'
import { appendOnPool, CHAIN_LOCK_NAMESPACE } from './append.ts'
import { POSTGRES_MIGRATIONS, RETENTION_SETTING } from './migrations.ts'
import { auditAnchors, auditChains, auditPrunedEvents, auditRecords } from './schema.ts'

export interface PostgresStoreOptions {
  /**
   * `postgres://user:pass@host:5432/db`. Query parameters other than the driver's own are sent as session
   * settings (`?search_path=audit` keeps the tables in schema `audit`); `?max=20` sizes the pool.
   */
  readonly url: string
  /** Extra session settings (tests use `{ search_path }`). */
  readonly connection?: Readonly<Record<string, string>>
  /** Connections in the pool. @defaultValue the URL's `max`, else 10 */
  readonly max?: number
  /** Wait for the migrations (and throw their failure). @defaultValue true */
  readonly wait?: boolean
  /** Logs boot attempts that failed and the recovery. */
  readonly logger?: Pick<Logger, 'warn' | 'info'>
}

type Db = PostgresJsDatabase<Record<string, never>>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
type RecordRow = typeof auditRecords.$inferSelect

const shared = relationalQueries({ records: auditRecords, anchors: auditAnchors, chains: auditChains })
// Drizzle types its builders per dialect; the shared queries use only calls both answer (relational.ts).
const builders = (db: Db | Tx) => db as unknown as Builders

/** A grouped analytics query as this store runs it (exported so the plan test explains this very query). */
export const groupedSelect = (db: Db, q: GroupedQuery) => shared.groupedSelect(builders(db), q)

/** The server's encoding must be UTF8: another could store a different string than the one hashed. */
const checkEncoding = async (client: Sql) => {
  const [encoding] = await client<{ server_encoding: string }[]>`SHOW server_encoding`
  if (encoding?.server_encoding !== 'UTF8') {
    throw new Error(`the audit database must use UTF8 encoding (it uses ${encoding?.server_encoding})`)
  }
}

/**
 * Opens a PostgreSQL audit store, migrated under the kit's advisory lock. With `wait` (the default) it resolves
 * once migrated and throws the first failure; without, it resolves at once, keeps retrying in the background
 * and fails each call fast (503) until the database is up (how the service boots).
 */
export const createPostgresStore = async (
  options: PostgresStoreOptions,
): Promise<AuditStore & { sql: Sql; db: Db; check(): Promise<string> }> => {
  const connection = openPostgres({
    url: options.url,
    store: 'audit',
    migrations: POSTGRES_MIGRATIONS,
    table: 'audit_schema_migrations',
    lockName: 'flotilla.audit.migrate',
    prepare: checkEncoding,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.connection ? { connection: options.connection } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  const client = connection.sql
  await migratedUnless(connection, options.wait)
  const db: Db = drizzle({ client })

  const store: AuditStore & { sql: Sql; db: Db; check(): Promise<string> } = {
    kind: 'postgres',
    sql: client,
    db,

    append: (inputs: readonly RecordInput[]): Promise<AppendResult> => appendOnPool(client, inputs),

    ...shared.reads<RecordRow>(builders(db)),

    prune: (chain, before, { now = new Date(), beforeDelete } = {}) =>
      db.transaction(async (tx) => {
        // The chain's append lock: no batch appends to it while it is pruned.
        await tx.execute(
          sql`SELECT pg_advisory_xact_lock(${sql.raw(CHAIN_LOCK_NAMESPACE)}, hashtext(${chain}))`,
        )
        const next = await shared.nextAnchor(builders(tx), chain, before, now)
        if (next === null) return null
        // Kept outside first (we hold the chain's lock): if this throws, the transaction rolls back.
        await beforeDelete?.(next)
        // The retention path: a transaction-local setting, so no other transaction ever sees it.
        await tx.execute(sql`SELECT set_config(${RETENTION_SETTING}, 'on', true)`)
        await tx.execute(
          sql`INSERT INTO ${auditPrunedEvents} (event_id, chain, pruned_at)
              SELECT event_id, chain, ${next.prunedAt} FROM ${auditRecords}
              WHERE chain = ${chain} AND seq <= ${next.seq} ON CONFLICT DO NOTHING`,
        )
        await shared.saveAnchor(builders(tx), next)
        await tx
          .delete(auditRecords)
          .where(and(eq(auditRecords.chain, chain), lte(auditRecords.seq, next.seq)))
        await tx.execute(sql`SELECT set_config(${RETENTION_SETTING}, '', true)`)
        return next
      }),

    check: () => connection.check(),
    close: () => connection.close(),
  }
  // Every call waits for the migrations (fails fast with 503 until then); the driver handles are left as they are.
  return whenUsable(connection, store, ['sql', 'db'])
}
