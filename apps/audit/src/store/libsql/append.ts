/**
 * The libSQL store's append: the ingest hot path, written as a few short SQL statements on the libSQL
 * transaction instead of through drizzle's query builder, which rebuilt a 4,000-parameter INSERT for every
 * batch. Table and column names still come from the drizzle schema (schema.ts), written nowhere else.
 */
import type { Client, InValue, Transaction } from '@libsql/client'
import { type Column, getTableColumns, getTableName, type Table } from 'drizzle-orm'
import { chainOf } from '../../records/from-event.ts'
import type { AuditRecord, RecordInput } from '../../records/model.ts'
import { type Head, sealBatch } from '../seal-batch.ts'
import type { AppendResult } from '../types.ts'
import { auditAnchors, auditChains, auditPrunedEvents, auditRecords } from './schema.ts'

/** One stored row of audit_records: the record and the millisecond time it sorts by. */
export type RecordRow = typeof auditRecords.$inferSelect

const occurredMsOf = (record: AuditRecord): number => Date.parse(record.occurredAt)

export const toRow = (record: AuditRecord): RecordRow => ({ ...record, occurredMs: occurredMsOf(record) })

// Schema names are plain identifiers: quoting them is enough.
const table = (t: Table) => `"${getTableName(t)}"`
const col = (c: Column) => `"${c.name}"`

// 20 parameters per row, 4,000 per full batch: far below SQLite's limit of 32,766.
const INSERT_CHUNK = 200

const RECORD_COLUMNS = Object.entries(getTableColumns(auditRecords)) as [keyof RecordRow, Column][]
const INSERT_HEAD = `INSERT INTO ${table(auditRecords)} (${RECORD_COLUMNS.map(([, c]) => col(c)).join(', ')}) VALUES `
const ROW_PLACEHOLDERS = `(${RECORD_COLUMNS.map(() => '?').join(', ')})`
const lists = new Map<string, string>()

/** `item, item, …` (`n` times), built once per item and count: batches are mostly full, so few are built. */
const repeated = (item: string, n: number): string => {
  const key = `${n}:${item}`
  let list = lists.get(key)
  if (list === undefined) {
    list = Array.from({ length: n }, () => item).join(', ')
    lists.set(key, list)
  }
  return list
}

const insertSqls = new Map<number, string>()
/** The multi-row INSERT of `n` records: one string per count, so a statement cache keyed by it hits cheaply. */
const insertSql = (n: number): string => {
  let sql = insertSqls.get(n)
  if (sql === undefined) {
    sql = INSERT_HEAD + repeated(ROW_PLACEHOLDERS, n)
    insertSqls.set(n, sql)
  }
  return sql
}

/** A record's bound values, encoded by each column as drizzle's insert would (JSON payload; undefined → NULL). */
const recordArgs = (record: AuditRecord, into: InValue[]): void => {
  // toRow's values, read without copying the record
  for (const [key, column] of RECORD_COLUMNS) {
    const value = key === 'occurredMs' ? occurredMsOf(record) : record[key]
    if (typeof value === 'number' && !Number.isFinite(value)) {
      // as @libsql/client refuses it; the local driver would bind it as NULL or a REAL
      throw new RangeError('Only finite numbers (not Infinity or NaN) can be passed as arguments')
    }
    into.push(value === null || value === undefined ? null : (column.mapToDriverValue(value) as InValue))
  }
}

const R = auditRecords
const P = auditPrunedEvents
const A = auditAnchors

// Ids or chains per read statement: a statement's SQL is reused per count.
const READ_CHUNK = 500

/** `(?from), (?from+1), …` (`n` of them), or pairs `(?from, ?from+1), …`: parameters named by number. */
const numbered = (from: number, n: number, perRow: 1 | 2): string =>
  Array.from({ length: n }, (_, i) =>
    perRow === 1 ? `(?${from + i})` : `(?${from + 2 * i}, ?${from + 2 * i + 1})`,
  ).join(', ')

const readSqls = new Map<string, string>()

/**
 * The batch's read: which of its event ids are recorded or were pruned (`head` 0, `id` the stored id), and
 * where each of its chains stands (`head` 1, `id` the chain's position in the arguments): last record, else
 * retention anchor, else NULL for a chain never written. Everything is a bound parameter, compared as the
 * inserts bind it; chains come back by position since SQLite may store a string other than the one sent (a
 * lone surrogate becomes U+FFFD). Arguments: the ids (each bound once, named by number in both lookups), then
 * (position, chain) pairs. Each lookup walks the ids' VALUES list and probes the table's key (CROSS JOIN keeps
 * that order): an `IN (…)` list built an index of the ids first, and bound them twice; for a 200-event batch
 * that read took ~150 µs against ~65 µs now (most of it binding the 200 ids).
 * The SQL is built once per (ids, chains) count.
 */
const readSql = (ids: number, chains: number, prunedFlag = false): string => {
  const key = `${ids}:${chains}:${prunedFlag}`
  const cached = readSqls.get(key)
  if (cached !== undefined) return cached
  const parts: string[] = []
  if (ids > 0) {
    const values = numbered(1, ids, 1)
    parts.push(
      `SELECT 0 AS head, r.${col(R.eventId)} AS id, NULL AS seq, NULL AS hash
        FROM (VALUES ${values}) AS v CROSS JOIN ${table(R)} AS r ON r.${col(R.eventId)} = v.column1`,
      `SELECT 0 AS head, p.${col(P.eventId)} AS id, NULL AS seq, NULL AS hash
        FROM (VALUES ${values}) AS v CROSS JOIN ${table(P)} AS p ON p.${col(P.eventId)} = v.column1`,
    )
  }
  if (chains > 0) {
    parts.push(
      `SELECT 1 AS head, c.column1 AS id, coalesce(r.${col(R.seq)}, a.${col(A.seq)}) AS seq,
          coalesce(r.${col(R.hash)}, a.${col(A.hash)}) AS hash
        FROM (VALUES ${numbered(ids + 1, chains, 2)}) AS c
        LEFT JOIN ${table(R)} AS r ON r.${col(R.chain)} = c.column2 AND r.${col(R.seq)} = (
          SELECT ${col(R.seq)} FROM ${table(R)} WHERE ${col(R.chain)} = c.column2 ORDER BY ${col(R.seq)} DESC LIMIT 1)
        LEFT JOIN ${table(A)} AS a ON a.${col(A.chain)} = c.column2`,
    )
  }
  if (prunedFlag) {
    // One row (`head` 2) when retention ever pruned an event: then ids must be checked against them too.
    parts.push(
      `SELECT 2 AS head, NULL AS id, NULL AS seq, NULL AS hash WHERE EXISTS (SELECT 1 FROM ${table(P)})`,
    )
  }
  const sql = parts.join(' UNION ALL ')
  // Batches are mostly full and on few chains, so few shapes recur; any others start the map over.
  if (readSqls.size >= 64) readSqls.clear()
  readSqls.set(key, sql)
  return sql
}

const INSERT_CHAINS_HEAD = `INSERT INTO ${table(auditChains)} (${col(auditChains.chain)}) VALUES `

/** What the append runs its statements on: a @libsql/client transaction, or the local driver (local-append.ts). */
export interface AppendSql {
  rows(
    sql: string,
    args: InValue[],
  ): Promise<readonly Record<string, unknown>[]> | readonly Record<string, unknown>[]
  run(sql: string, args: InValue[]): Promise<unknown> | unknown
  /**
   * Whether `error`, thrown by `run`, is a constraint failure that undid that one statement and left the
   * transaction open (SQLite's ABORT). Given, a batch is first inserted as if all its ids were new (below).
   */
  readonly isConstraintFailure?: (error: unknown) => boolean
}

/** The append's statements on a @libsql/client transaction. */
const onTransaction = (tx: Transaction): AppendSql => ({
  rows: async (sql, args) => (await tx.execute({ sql, args })).rows,
  run: (sql, args) => tx.execute({ sql, args }),
})

/** Where each chain of `chainPart` stands, from a read's `head` 1 rows. */
const addHeads = (
  stored: Map<string, Head | null>,
  chainPart: readonly string[],
  row: Record<string, unknown>,
): void => {
  const chain = chainPart[Number(row.id)] as string
  stored.set(chain, row.seq === null ? null : { seq: Number(row.seq), hash: row.hash as string })
}

/** The batch's records as one INSERT's arguments. */
const insertArgs = (records: readonly AuditRecord[]): InValue[] => {
  const args: InValue[] = []
  for (const record of records) recordArgs(record, args)
  return args
}

const insertNewChains = async (tx: AppendSql, newChains: readonly string[]): Promise<void> => {
  if (newChains.length === 0) return
  await tx.run(
    `${INSERT_CHAINS_HEAD}${repeated('(?)', newChains.length)} ON CONFLICT DO NOTHING`,
    newChains as string[],
  )
}

/**
 * The append of a batch that fits one INSERT, as if none of its ids were recorded yet: it reads only the chain
 * heads (and whether retention ever pruned an event), seals, and inserts. The event id is the table's primary
 * key, so an id already recorded fails that INSERT, which SQLite undoes alone; then, as when pruned events
 * exist, this returns null and the batch takes the full read of its ids. Exactly-once rests on the key
 * itself instead of a read before it: the read of 200 ids cost ~0.2 ms of a ~5 ms batch.
 */
const appendAssumingNew = async (
  tx: AppendSql,
  isConstraintFailure: (error: unknown) => boolean,
  inputs: readonly RecordInput[],
  chainList: readonly string[],
): Promise<AppendResult | null> => {
  const stored = new Map<string, Head | null>()
  const rows = await tx.rows(
    readSql(0, chainList.length, true),
    chainList.flatMap((chain, k) => [k, chain]),
  )
  for (const row of rows) {
    if (row.head === 2) return null
    addHeads(stored, chainList, row)
  }
  const { appended, duplicates, newChains } = sealBatch(inputs, new Set(), stored)
  try {
    await tx.run(insertSql(appended.length), insertArgs(appended))
  } catch (error) {
    if (isConstraintFailure(error)) return null
    throw error
  }
  await insertNewChains(tx, newChains)
  return { appended, duplicates }
}

/**
 * Appends a batch inside a write transaction (BEGIN IMMEDIATE) the caller commits: the lock is held before
 * the heads are read, so two writers of one chain queue up instead of forking it.
 */
export const appendIn = async (tx: AppendSql, inputs: readonly RecordInput[]): Promise<AppendResult> => {
  if (inputs.length === 0) return { appended: [], duplicates: [] }

  const ids = new Set<string>()
  const chains = new Set<string>()
  for (const input of inputs) {
    ids.add(input.eventId)
    chains.add(chainOf(input.tenantId))
  }
  const chainList = [...chains]
  const { isConstraintFailure } = tx
  if (isConstraintFailure && inputs.length <= INSERT_CHUNK && chainList.length <= READ_CHUNK) {
    const result = await appendAssumingNew(tx, isConstraintFailure, inputs, chainList)
    if (result !== null) return result
  }

  const idList = [...ids]
  const seen = new Set<string>()
  const stored = new Map<string, Head | null>()
  // One statement for a batch of up to READ_CHUNK events.
  for (let i = 0; i < Math.max(idList.length, chainList.length); i += READ_CHUNK) {
    const idPart = idList.slice(i, i + READ_CHUNK)
    const chainPart = chainList.slice(i, i + READ_CHUNK)
    const rows = await tx.rows(readSql(idPart.length, chainPart.length), [
      ...idPart,
      ...chainPart.flatMap((chain, k) => [k, chain]),
    ])
    for (const row of rows) {
      if (row.head === 0) seen.add(row.id as string)
      else addHeads(stored, chainPart, row)
    }
  }

  const { appended, duplicates, newChains } = sealBatch(inputs, seen, stored)

  await insertNewChains(tx, newChains)
  for (let i = 0; i < appended.length; i += INSERT_CHUNK) {
    const chunk = appended.slice(i, i + INSERT_CHUNK)
    await tx.run(insertSql(chunk.length), insertArgs(chunk))
  }
  return { appended, duplicates }
}

/** A whole append on a @libsql/client write transaction (BEGIN IMMEDIATE): the path remote URLs take. */
export const appendOnClient = async (
  client: Client,
  inputs: readonly RecordInput[],
): Promise<AppendResult> => {
  const tx = await client.transaction('write')
  try {
    const result = await appendIn(onTransaction(tx), inputs)
    await tx.commit()
    return result
  } finally {
    tx.close()
  }
}
