/**
 * The PostgreSQL store's append (the ingest hot path), on postgres.js directly: a batch of any size is one
 * INSERT … SELECT FROM unnest(<one array per column>), so the statement text never changes and stays
 * prepared. Table and column names come from the drizzle schema (schema.ts), written nowhere else.
 *
 * The chain never forks with several writers: the transaction first takes a transaction-scoped advisory lock
 * per chain of the batch (`pg_advisory_xact_lock`, keys in ascending order so two batches never wait on each
 * other in a cycle), and only then reads the heads; under READ COMMITTED each later statement sees what the
 * previous holder committed. The unique (chain, seq) index is the backstop.
 */
import { type Column, getTableColumns, getTableName, type Table } from 'drizzle-orm'
import type { Sql, TransactionSql } from 'postgres'
import { chainOf } from '../../records/from-event.ts'
import type { AuditRecord, RecordInput } from '../../records/model.ts'
import { type Head, sealBatch } from '../seal-batch.ts'
import type { AppendResult } from '../types.ts'
import { auditAnchors, auditChains, auditPrunedEvents, auditRecords } from './schema.ts'

type RecordRow = typeof auditRecords.$inferSelect

const table = (t: Table) => `"${getTableName(t)}"`
const col = (c: Column) => `"${c.name}"`
const R = auditRecords
const P = auditPrunedEvents
const A = auditAnchors

/**
 * Locks the chains' keys for the rest of the transaction. The key pair is (this schema, the chain): stores
 * in different schemas never wait on each other; two chains whose hashes collide only take turns.
 */
export const CHAIN_LOCK_NAMESPACE = "hashtext('flotilla.audit.chain:' || coalesce(current_schema(), ''))"
const LOCK_CHAINS_SQL = `SELECT pg_advisory_xact_lock(${CHAIN_LOCK_NAMESPACE}, k)
  FROM (SELECT DISTINCT hashtext(c) AS k FROM unnest($1::text[]) AS c ORDER BY k) AS keys`

const SEEN_SQL = `SELECT ${col(R.eventId)} AS id FROM ${table(R)} WHERE ${col(R.eventId)} = ANY($1::text[])
  UNION ALL SELECT ${col(P.eventId)} FROM ${table(P)} WHERE ${col(P.eventId)} = ANY($1::text[])`

/** Each chain's last record, else its retention anchor (by position in the argument). */
const HEADS_SQL = `SELECT c.i::int AS i, coalesce(r.seq, a.${col(A.seq)})::float8 AS seq, coalesce(r.hash, a.${col(A.hash)}) AS hash
  FROM unnest($1::text[]) WITH ORDINALITY AS c(chain, i)
  LEFT JOIN LATERAL (SELECT ${col(R.seq)} AS seq, ${col(R.hash)} AS hash FROM ${table(R)}
    WHERE ${col(R.chain)} = c.chain ORDER BY ${col(R.seq)} DESC LIMIT 1) AS r ON true
  LEFT JOIN ${table(A)} AS a ON a.${col(A.chain)} = c.chain`

const NEW_CHAINS_SQL = `INSERT INTO ${table(auditChains)} (${col(auditChains.chain)})
  SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`

const RECORD_COLUMNS = Object.entries(getTableColumns(auditRecords)) as [keyof RecordRow, Column][]
// Every array goes in as text[] (postgres.js sends it as an array literal) and is cast back per column.
const INSERT_SQL = `INSERT INTO ${table(R)} (${RECORD_COLUMNS.map(([, c]) => col(c)).join(', ')})
  SELECT ${RECORD_COLUMNS.map(([, c], i) => `u.c${i}::${c.getSQLType()}`).join(', ')}
  FROM unnest(${RECORD_COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')})
    AS u(${RECORD_COLUMNS.map((_, i) => `c${i}`).join(', ')})`

/** The column arrays of the INSERT: every value as the text PostgreSQL parses back to the column's type. */
const columnArrays = (records: readonly AuditRecord[]): (string | null)[][] =>
  RECORD_COLUMNS.map(([key]) =>
    records.map((record) => {
      if (key === 'occurredMs') return String(Date.parse(record.occurredAt))
      if (key === 'payload') return JSON.stringify(record.payload)
      const value = record[key]
      return value === null || value === undefined ? null : String(value)
    }),
  )

// postgres.js prepares tagged queries but not `unsafe` ones unless asked: unprepared, each statement with
// parameters costs a Parse/Describe round trip before it runs. Prepared, it is parsed once per connection.
const PREPARED = { prepare: true } as const

/** Appends one batch in the caller's transaction (see the file comment for why it never forks a chain). */
const appendIn = async (tx: TransactionSql, inputs: readonly RecordInput[]): Promise<AppendResult> => {
  if (inputs.length === 0) return { appended: [], duplicates: [] }
  const ids = [...new Set(inputs.map((i) => i.eventId))]
  const chains = [...new Set(inputs.map((i) => chainOf(i.tenantId)))]

  // The lock and both reads in one flight: postgres.js pipelines them on the transaction's connection, which
  // runs them in order, so the reads still see the chains only once they are locked.
  const [, seenRows, headRows] = await Promise.all([
    tx.unsafe(LOCK_CHAINS_SQL, [chains], PREPARED),
    tx.unsafe<{ id: string }[]>(SEEN_SQL, [ids], PREPARED),
    tx.unsafe<{ i: number; seq: number | null; hash: string | null }[]>(HEADS_SQL, [chains], PREPARED),
  ])
  const seen = new Set(seenRows.map((r) => r.id))
  const stored = new Map<string, Head | null>()
  for (const row of headRows) {
    const chain = chains[row.i - 1] as string
    stored.set(chain, row.seq === null || row.hash === null ? null : { seq: row.seq, hash: row.hash })
  }

  const { appended, duplicates, newChains } = sealBatch(inputs, seen, stored)
  if (newChains.length > 0) await tx.unsafe(NEW_CHAINS_SQL, [newChains], PREPARED)
  if (appended.length > 0) await tx.unsafe(INSERT_SQL, columnArrays(appended), PREPARED)
  return { appended, duplicates }
}

// deadlock_detected, serialization_failure, unique_violation: another writer won a race we did not lock
// against (the same event id sent with another tenant, hence another chain); the next attempt sees its commit.
const RETRYABLE = new Set(['40P01', '40001', '23505'])
const MAX_ATTEMPTS = 5

/** A whole append in its own transaction, retried from scratch when it lost a race. */
export const appendOnPool = async (sql: Sql, inputs: readonly RecordInput[]): Promise<AppendResult> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin((tx) => appendIn(tx, inputs))) as AppendResult
    } catch (error) {
      const code = (error as { code?: string }).code
      if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error
    }
  }
}
