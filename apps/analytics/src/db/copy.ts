/** `bun run ops db copy --app analytics`: the libSQL file's every table into a PostgreSQL store. */
import { copyLibsqlToPostgres, openPostgres, type TableCopy } from '@flotilla/service-kit'
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
export const copyAnalyticsToPostgres = async (
  from: string,
  to: string,
  options: { batchSize?: number; onBatch?: (table: string, copied: number) => void } = {},
): Promise<TableCopy[]> => {
  const source = createClient({ url: from })
  const target = openPostgres({ url: to, ...ANALYTICS_POSTGRES })
  try {
    await target.migrated
    return await copyLibsqlToPostgres({
      source,
      target: target.sql,
      tables: [counts, processedEvents, dirtyBuckets, uniquesDaily, durationSketches, jobRuns, meta],
      ...options,
    })
  } finally {
    source.close()
    await target.close()
  }
}
