/** `bun run ops db copy --app notifications`: the libSQL file's every table into a PostgreSQL store. */
import { copyStoreToPostgres, type TableCopy } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { NOTIFICATIONS_POSTGRES } from './client.ts'
import {
  cancelledRequests,
  contacts,
  deliveries,
  deliveryAttempts,
  outbox,
  preferences,
  webhookReceipts,
} from './schema.ts'

/** Copies (idempotently) and returns each table's row counts on both sides. */
export const copyNotificationsToPostgres = (
  from: string,
  to: string,
  options: { batchSize?: number; onBatch?: (table: string, copied: number) => void } = {},
): Promise<TableCopy[]> =>
  copyStoreToPostgres(createClient({ url: from }), to, NOTIFICATIONS_POSTGRES, {
    tables: [deliveries, deliveryAttempts, contacts, preferences, outbox, webhookReceipts, cancelledRequests],
    ...options,
  })
