/** `bun run ops db copy --app analytics`: the libSQL file's every table into a PostgreSQL store. */
import { copyStoreToPostgres, type TableCopy } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { ANALYTICS_POSTGRES } from './postgres.ts'
import {
  counts,
  dirtyBuckets,
  durationSketches,
  jobRuns,
  meta,
  processedEvents,
  uniquesDaily,
} from './schema.ts'

/** Copies (idempotently) and returns each table's row counts on both sides. */
export const copyAnalyticsToPostgres = (
  from: string,
  to: string,
  options: { batchSize?: number; onBatch?: (table: string, copied: number) => void } = {},
): Promise<TableCopy[]> =>
  copyStoreToPostgres(createClient({ url: from }), to, ANALYTICS_POSTGRES, {
    tables: [counts, processedEvents, dirtyBuckets, uniquesDaily, durationSketches, jobRuns, meta],
    ...options,
  })
