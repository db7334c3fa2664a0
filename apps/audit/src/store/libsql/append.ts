/**
 * The libSQL store's append: the ingest hot path, written as a few short SQL statements on the libSQL
 * transaction instead of through drizzle's query builder, which rebuilt a 4,000-parameter INSERT for every
 * batch. Table and column names still come from the drizzle schema (schema.ts), written nowhere else.
 */
import type { InValue, Transaction } from '@libsql/client'
import { type Column, getTableColumns, getTableName, type Table } from 'drizzle-orm'
import { chainOf } from '../../records/from-event.ts'
import { sealRecord } from '../../records/hash.ts'
import { type AuditRecord, GENESIS_HASH, type RecordInput } from '../../records/model.ts'
import type { AppendResult } from '../types.ts'
import { auditAnchors, auditChains, auditPrunedEvents, auditRecords } from './schema.ts'

/** One stored row of audit_records: the record and the millisecond time it sorts by. */
export type RecordRow = typeof auditRecords.$inferSelect

export const toRow = (record: AuditRecord): RecordRow => ({
  ...record,
  occurredMs: Date.parse(record.occurredAt),
})

// Schema names are plain identifiers: quoting them is enough.
const table = (t: Table) => `"${getTableName(t)}"`
const col = (c: Column) => `"${c.name}"`

// 20 parameters per row, 4,000 per full batch: far below SQLite's limit of 32,766.
const INSERT_CHUNK = 200

const RECORD_COLUMNS = Object.entries(getTableColumns(auditRecords)) as [keyof RecordRow, Column][]
const INSERT_HEAD = `INSERT INTO ${table(auditRecords)} (${RECORD_COLUMNS.map(([, c]) => col(c)).join(', ')}) VALUES `
const ROW_PLACEHOLDERS = `(${RECORD_COLUMNS.map(() => '?').join(', ')})`
const insertSql = new Map<number, string>()

/** `INSERT … VALUES (…), (…)` for `rows` rows, built once per row count (batches are mostly full). */
const insertRecordsSql = (rows: number): string => {
  let sql = insertSql.get(rows)
  if (sql === undefined) {
    sql = INSERT_HEAD + Array.from({ length: rows }, () => ROW_PLACEHOLDERS).join(', ')
    insertSql.set(rows, sql)
  }
  return sql
}

/** A record's bound values, encoded by each column as drizzle's insert would (JSON payload; undefined → NULL). */
export const recordArgs = (record: AuditRecord, into: InValue[]): void => {
  const row = toRow(record)
  for (const [key, column] of RECORD_COLUMNS) {
    const value = row[key]
    into.push(value === null || value === undefined ? null : (column.mapToDriverValue(value) as InValue))
  }
}

const R = auditRecords
const P = auditPrunedEvents
const A = auditAnchors

/**
 * One read for the whole batch: which of its event ids (JSON array ?1) are recorded or were pruned (`head` 0),
 * and where each of its chains (JSON array ?2) stands (`head` 1): last record, else retention anchor, else
 * NULL for a chain never written.
 */
const READ_SQL = `
SELECT 0 AS head, ${col(R.eventId)} AS id, NULL AS seq, NULL AS hash
  FROM ${table(R)} WHERE ${col(R.eventId)} IN (SELECT value FROM json_each(?1))
UNION ALL
SELECT 0, ${col(P.eventId)}, NULL, NULL
  FROM ${table(P)} WHERE ${col(P.eventId)} IN (SELECT value FROM json_each(?1))
UNION ALL
SELECT 1, c.value, coalesce(r.${col(R.seq)}, a.${col(A.seq)}), coalesce(r.${col(R.hash)}, a.${col(A.hash)})
  FROM json_each(?2) AS c
  LEFT JOIN ${table(R)} AS r ON r.${col(R.chain)} = c.value AND r.${col(R.seq)} = (
    SELECT ${col(R.seq)} FROM ${table(R)} WHERE ${col(R.chain)} = c.value ORDER BY ${col(R.seq)} DESC LIMIT 1)
  LEFT JOIN ${table(A)} AS a ON a.${col(A.chain)} = c.value`

const INSERT_CHAINS_HEAD = `INSERT INTO ${table(auditChains)} (${col(auditChains.chain)}) VALUES `

type Head = { seq: number; hash: string }

/**
 * Appends a batch inside `tx`, a write transaction (BEGIN IMMEDIATE) the caller commits: the lock is held
 * before the heads are read, so two writers of one chain queue up instead of forking it.
 */
export const appendIn = async (tx: Transaction, inputs: readonly RecordInput[]): Promise<AppendResult> => {
  const appended: AuditRecord[] = []
  const duplicates: string[] = []
  if (inputs.length === 0) return { appended, duplicates }

  const ids = new Set<string>()
  const chains = new Set<string>()
  for (const input of inputs) {
    ids.add(input.eventId)
    chains.add(chainOf(input.tenantId))
  }
  const read = await tx.execute({
    sql: READ_SQL,
    args: [JSON.stringify([...ids]), JSON.stringify([...chains])],
  })
  const seen = new Set<string>()
  const stored = new Map<string, Head | null>()
  for (const row of read.rows) {
    const id = row.id as string
    if (row.head === 0) seen.add(id)
    else stored.set(id, row.seq === null ? null : { seq: Number(row.seq), hash: row.hash as string })
  }

  const heads = new Map<string, Head>()
  const newChains: string[] = []
  for (const input of inputs) {
    if (seen.has(input.eventId)) {
      duplicates.push(input.eventId)
      continue
    }
    seen.add(input.eventId)
    const chain = chainOf(input.tenantId)
    let head = heads.get(chain) ?? stored.get(chain)
    if (head === undefined) throw new Error(`chain ${chain} missing from the batch read`)
    if (head === null) {
      newChains.push(chain)
      head = { seq: 0, hash: GENESIS_HASH }
    }
    const record = sealRecord(input, chain, head.seq + 1, head.hash)
    heads.set(chain, { seq: record.seq, hash: record.hash })
    appended.push(record)
  }

  if (newChains.length > 0) {
    await tx.execute({
      sql: `${INSERT_CHAINS_HEAD}${newChains.map(() => '(?)').join(', ')} ON CONFLICT DO NOTHING`,
      args: newChains,
    })
  }
  for (let i = 0; i < appended.length; i += INSERT_CHUNK) {
    const chunk = appended.slice(i, i + INSERT_CHUNK)
    const args: InValue[] = []
    for (const record of chunk) recordArgs(record, args)
    await tx.execute({ sql: insertRecordsSql(chunk.length), args })
  }
  return { appended, duplicates }
}
