/**
 * `bun run ops db copy --app <analytics|audit|notifications> --from file:… --to postgres://…`: moves an app's
 * libSQL store to PostgreSQL (every table, in batches, idempotent: run it again after a stop), then checks the
 * row counts of every table (and, for audit, verifies every chain on PostgreSQL). Stop the app's writers first.
 */
import { copyAnalyticsToPostgres } from '@flotilla/analytics'
import { copyAuditToPostgres } from '@flotilla/audit'
import { copyNotificationsToPostgres } from '@flotilla/notifications'
import { databaseName, isPostgresUrl } from '@flotilla/service-kit'
import { OpsError } from './ops-commands.ts'
import { dim, green, red } from './term.ts'

const COPIERS = {
  analytics: copyAnalyticsToPostgres,
  notifications: copyNotificationsToPostgres,
  audit: copyAuditToPostgres,
} as const

export interface DbCopyOptions {
  readonly app: string | undefined
  readonly from: string | undefined
  readonly to: string | undefined
  readonly batch: string | undefined
  readonly json: boolean
}

/** Runs the copy and prints each table's counts; throws (exit 1) when a count or a chain does not check out. */
export const dbCopy = async (o: DbCopyOptions): Promise<void> => {
  if (!o.app || !(o.app in COPIERS))
    throw new OpsError(`--app must be one of ${Object.keys(COPIERS).join(', ')}`)
  if (!o.from || !/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(o.from))
    throw new OpsError('--from must be the libSQL store (file:/data/analytics.db, libsql://…)')
  if (!o.to || !isPostgresUrl(o.to)) throw new OpsError('--to must be a postgres:// URL')
  const batchSize = o.batch === undefined ? 1000 : Number(o.batch)
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OpsError('--batch must be a positive integer')
  const onBatch = o.json
    ? undefined
    : (table: string, copied: number) => console.log(dim(`${table}: ${copied} rows read`))
  if (!o.json) console.log(dim(`copying ${o.app} from ${o.from} to ${databaseName(o.to)}`))
  const result = await COPIERS[o.app as keyof typeof COPIERS](o.from, o.to, {
    batchSize,
    ...(onBatch ? { onBatch } : {}),
  })
  const tables = 'tables' in result ? result.tables : result
  const broken = 'chains' in result ? result.chains.filter((c) => !c.ok) : []
  if (o.json) console.log(JSON.stringify(result))
  else {
    for (const t of tables)
      console.log(`${green('✓')} ${t.table}: ${t.source} rows in libSQL, ${t.target} in PostgreSQL`)
    if ('chains' in result)
      console.log(
        broken.length === 0
          ? `${green('✓')} ${result.chains.length} chains verify on PostgreSQL`
          : red(
              `${broken.length} of ${result.chains.length} chains do not verify: ${broken.map((c) => c.chain).join(', ')}`,
            ),
      )
  }
  if (broken.length > 0) throw new OpsError('the copied audit log does not verify')
}
