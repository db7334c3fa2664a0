/**
 * Moves a libSQL store to PostgreSQL: every table, in primary-key order, in batches (a keyset read, one
 * `INSERT … ON CONFLICT DO NOTHING` per batch in its own transaction), so a copy stopped half-way is simply
 * run again. Afterwards each table's rows are counted on both sides. The tables are the app's drizzle
 * schema, so a column added there is copied without touching this.
 */
// Types only: the kit never loads libSQL's native addon (auth, which has no libSQL store, bundles the kit too).
import type { Client, InValue } from '@libsql/client'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { Sql, TransactionSql } from 'postgres'
import { openPostgres, type PostgresConnectionOptions, postgresText } from './connection.ts'

export interface CopyOptions {
  readonly source: Client
  /** A migrated PostgreSQL store (the app's own opener migrated it). */
  readonly target: Sql
  /** In copy order. */
  readonly tables: readonly SQLiteTable[]
  /** Rows per batch. @defaultValue 1000 */
  readonly batchSize?: number
  /** Runs first in every batch's transaction (audit turns its retention mode on to write anchors). */
  readonly prepare?: (tx: TransactionSql) => Promise<void>
  /** Called after each batch. */
  readonly onBatch?: (table: string, copied: number) => void
}

export interface TableCopy {
  readonly table: string
  /** Rows in the libSQL table. */
  readonly source: number
  /** Rows in the PostgreSQL table afterwards (more than `source` when it held rows of its own). */
  readonly target: number
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * The table's columns and its key (primary key, else every column of its first unique index). drizzle's
 * sqlite-core loads here, when a copy runs: every service imports the kit, and only `ops db copy` needs it
 * (~3 MiB of resident memory at boot otherwise, measured on Bun 1.4).
 */
const shapeOf = async (table: SQLiteTable) => {
  const { getTableConfig } = await import('drizzle-orm/sqlite-core')
  const config = getTableConfig(table)
  const columns = config.columns.map((c) => c.name)
  const key =
    config.primaryKeys[0]?.columns.map((c) => c.name) ??
    config.columns.filter((c) => c.primary).map((c) => c.name)
  if (key.length === 0) throw new Error(`table ${config.name} has no primary key to copy it in order by`)
  return { name: config.name, columns, key }
}

/** A libSQL value as postgres.js binds it: bytes as bytes, text without NUL. */
const boundValue = (value: unknown): unknown =>
  value instanceof ArrayBuffer ? new Uint8Array(value) : postgresText(value)

/** Copies every table; returns the row counts of each side (throws when the target has fewer). */
export const copyLibsqlToPostgres = async (options: CopyOptions): Promise<TableCopy[]> => {
  const report: TableCopy[] = []
  for (const table of options.tables) {
    const { name, columns, key } = await shapeOf(table)
    // One statement binds at most 65,535 parameters.
    const batchSize = Math.min(options.batchSize ?? 1000, Math.floor(60_000 / columns.length))
    const select = `SELECT ${columns.map(quote).join(', ')} FROM ${quote(name)}`
    const order = `ORDER BY ${key.map(quote).join(', ')} LIMIT ?`
    const insert = `INSERT INTO ${quote(name)} (${columns.map(quote).join(', ')})`
    const after = `WHERE (${key.map(quote).join(', ')}) > (${key.map(() => '?').join(', ')})`
    let last: InValue[] | undefined
    let copied = 0
    for (;;) {
      const { rows } = await options.source.execute({
        sql: `${select} ${last ? after : ''} ${order}`,
        args: [...(last ?? []), batchSize],
      })
      if (rows.length === 0) break
      const values = rows.flatMap((row) => columns.map((c) => boundValue(row[c])))
      const tuples = rows.map(
        (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`,
      )
      await options.target.begin(async (tx) => {
        await options.prepare?.(tx)
        await tx.unsafe(`${insert} VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values as never[])
      })
      copied += rows.length
      options.onBatch?.(name, copied)
      const end = rows.at(-1)
      last = key.map((k) => (end?.[k] ?? null) as InValue)
      if (rows.length < batchSize) break
    }
    const [sourceCount] = (await options.source.execute(`SELECT count(*) AS n FROM ${quote(name)}`)).rows
    const [targetCount] = await options.target.unsafe<{ n: number }[]>(
      `SELECT count(*) AS n FROM ${quote(name)}`,
    )
    const counts = { table: name, source: Number(sourceCount?.n), target: Number(targetCount?.n) }
    if (counts.target < counts.source)
      throw new Error(
        `${name}: ${counts.source} rows in libSQL but ${counts.target} in PostgreSQL after the copy`,
      )
    report.push(counts)
  }
  return report
}

/**
 * Copies `tables` from the libSQL client `source` (the app opens it) to the PostgreSQL store at `to`, migrated
 * first by the app's own migrations, and closes both.
 */
export const copyStoreToPostgres = async (
  source: Client,
  to: string,
  store: Omit<PostgresConnectionOptions, 'url'>,
  options: Omit<CopyOptions, 'source' | 'target'>,
): Promise<TableCopy[]> => {
  const target = openPostgres({ url: to, ...store })
  try {
    await target.migrated
    return await copyLibsqlToPostgres({ source, target: target.sql, ...options })
  } finally {
    source.close()
    await target.close()
  }
}
