/** `bun run ops db copy --app notifications`: the libSQL file's every table into a PostgreSQL store. */
import { copyLibsqlToPostgres, openPostgres, type TableCopy } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { NOTIFICATIONS_POSTGRES } from './client.ts'
import { contacts, deliveries, deliveryAttempts, outbox, preferences, webhookReceipts } from './schema.ts'

/** Copies (idempotently) and returns each table's row counts on both sides. */
export const copyNotificationsToPostgres = async (
  from: string,
  to: string,
  options: { batchSize?: number; onBatch?: (table: string, copied: number) => void } = {},
): Promise<TableCopy[]> => {
  const source = createClient({ url: from })
  const target = openPostgres({ url: to, ...NOTIFICATIONS_POSTGRES })
  try {
    await target.migrated
    return await copyLibsqlToPostgres({
      source,
      target: target.sql,
      tables: [deliveries, deliveryAttempts, contacts, preferences, outbox, webhookReceipts],
      ...options,
    })
  } finally {
    source.close()
    await target.close()
  }
}
