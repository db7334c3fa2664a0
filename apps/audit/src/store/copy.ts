/**
 * `bun run ops db copy --app audit`: the libSQL audit log's every table into a PostgreSQL store, then every
 * chain verified there (the hash covers the stored text, which is copied as it is).
 */
import { copyLibsqlToPostgres, type TableCopy } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { type VerifyResult, verifyChain } from '../verify/service.ts'
import { auditAnchors, auditChains, auditPrunedEvents, auditRecords } from './libsql/schema.ts'
import { RETENTION_SETTING } from './postgres/migrations.ts'
import { createPostgresStore } from './postgres/store.ts'

export interface AuditCopyReport {
  readonly tables: TableCopy[]
  /** Every chain's verification on PostgreSQL. */
  readonly chains: VerifyResult[]
}

/** Copies (idempotently), verifies every chain on PostgreSQL, returns both. */
export const copyAuditToPostgres = async (
  from: string,
  to: string,
  options: { batchSize?: number; onBatch?: (table: string, copied: number) => void } = {},
): Promise<AuditCopyReport> => {
  const source = createClient({ url: from })
  const store = await createPostgresStore({ url: to })
  try {
    const tables = await copyLibsqlToPostgres({
      source,
      target: store.sql,
      // Anchors before records (a record at or below its chain's anchor is refused); anchors are written only
      // in retention mode, which lasts the batch's transaction.
      tables: [auditChains, auditAnchors, auditPrunedEvents, auditRecords],
      prepare: async (tx) => {
        await tx.unsafe(`SELECT set_config('${RETENTION_SETTING}', 'on', true)`)
      },
      ...options,
    })
    const chains: VerifyResult[] = []
    for (const chain of await store.chains()) chains.push(await verifyChain({ store }, chain))
    return { tables, chains }
  } finally {
    source.close()
    await store.close()
  }
}
