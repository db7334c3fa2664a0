/**
 * The libSQL client's surface (execute, batch, transaction) over one connection to a local file, through the
 * `libsql` driver @libsql/client itself uses for files — with each statement prepared once per SQL text. The
 * library's local client prepares every statement again on each call and keeps no cache (its SQL cache is for
 * remote servers only); a batch's 64-row delivery insert took about a millisecond to prepare, a quarter of
 * the CPU of the batch's writes. Results, errors and transaction rules are the library's: rows readable by
 * index and by column name, integers as numbers (a RangeError past 2^53), `LibsqlError` with SQLite's codes,
 * one transaction at a time holding the connection (`TRANSACTION_ACTIVE` otherwise).
 */

import { libsqlErrorOf } from '@flotilla/service-kit/libsql-driver'
import {
  type Client,
  type InArgs,
  type InStatement,
  type InValue,
  LibsqlBatchError,
  LibsqlError,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from '@libsql/client'
import Database from 'libsql'
import { LRUCache } from 'lru-cache'

type Statement = Database.Statement

/** Distinct SQL texts kept prepared: a batch statement's text varies with its row count (1–64 here). */
const CACHED = 256
/**
 * And at most this much SQL text: a prepared statement takes ~26 bytes of memory per character of its text
 * (measured: a 64-row delivery insert ~158 KB, a 500-row one ~1.3 MB), so ~26 MB at most.
 */
const CACHED_TEXT = 1_000_000

const MAX = 9007199254740991n

const valueToSql = (value: InValue): unknown => {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new RangeError('Only finite numbers (not Infinity or NaN) can be passed as arguments')
    return value
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof ArrayBuffer) return Buffer.from(value)
  if (value instanceof Date) return value.valueOf()
  if (value === undefined) throw new TypeError('undefined cannot be passed as argument to the database')
  return value
}

const valueFromSql = (value: unknown): unknown => {
  if (typeof value === 'bigint') {
    if (value < -MAX || value > MAX)
      throw new RangeError('Received integer which cannot be safely represented as a JavaScript number')
    return Number(value)
  }
  if (value instanceof Buffer) return value.buffer
  return value
}

/** A row as the library gives it: values by index (hidden) and by column name (the first of a repeated name). */
const rowOf = (values: unknown[], columns: readonly string[]): Row => {
  const row = {}
  Object.defineProperty(row, 'length', { value: values.length })
  for (let i = 0; i < values.length; i++) {
    const value = valueFromSql(values[i])
    Object.defineProperty(row, i, { value })
    const column = columns[i] as string
    if (!Object.hasOwn(row, column))
      Object.defineProperty(row, column, { value, enumerable: true, configurable: true, writable: true })
  }
  return row as Row
}

/** A value in `toJSON`, as the library writes it: bigints as text, blobs as base64. */
const jsonOf = (value: unknown): unknown =>
  typeof value === 'bigint'
    ? `${value}`
    : value instanceof ArrayBuffer
      ? Buffer.from(value).toString('base64')
      : value

const resultSet = (
  columns: string[],
  columnTypes: string[],
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet => ({
  columns,
  columnTypes,
  rows,
  rowsAffected,
  lastInsertRowid,
  toJSON: () => ({
    columns,
    columnTypes,
    rows: rows.map((row) => Array.prototype.map.call(row, jsonOf)),
    rowsAffected,
    lastInsertRowid: lastInsertRowid === undefined ? null : `${lastInsertRowid}`,
  }),
})

const BEGIN: Record<TransactionMode, string> = {
  write: 'BEGIN IMMEDIATE',
  read: 'BEGIN TRANSACTION READONLY',
  deferred: 'BEGIN DEFERRED',
}

const normalized = (stmt: InStatement | [string, InArgs?]): { sql: string; args: InArgs } =>
  typeof stmt === 'string'
    ? { sql: stmt, args: [] }
    : Array.isArray(stmt)
      ? { sql: stmt[0], args: stmt[1] ?? [] }
      : { sql: stmt.sql, args: stmt.args ?? [] }

const argsToSql = (args: InArgs): unknown[] | Record<string, unknown> => {
  if (Array.isArray(args)) return args.map(valueToSql)
  const named: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(args))
    named[name[0] === '@' || name[0] === '$' || name[0] === ':' ? name.slice(1) : name] = valueToSql(value)
  return named
}

export interface LocalClientOptions {
  /** SQLite's busy timeout, as @libsql/client's `timeout`. */
  readonly timeout?: number
}

/** A client over one connection to the libSQL file at `path`. */
export const createLocalClient = (path: string, { timeout = 0 }: LocalClientOptions = {}): Client => {
  let db = new Database(path, { timeout })
  // A statement that failed is dropped, as the library drops every statement after its call.
  const prepared = new LRUCache<string, { statement: Statement; reader: boolean }>({
    max: CACHED,
    maxSize: CACHED_TEXT,
    sizeCalculation: (_, sql) => sql.length,
  })
  let inTransaction = false
  let closed = false

  const preparedFor = (sql: string) => {
    const hit = prepared.get(sql)
    if (hit) return hit
    const statement = db.prepare(sql)
    statement.safeIntegers(true)
    const entry = { statement, reader: statement.reader }
    if (entry.reader) statement.raw(true)
    prepared.set(sql, entry)
    return entry
  }

  const run = (stmt: InStatement | [string, InArgs?]): ResultSet => {
    const { sql, args } = normalized(stmt)
    try {
      const values = argsToSql(args)
      const { statement, reader } = preparedFor(sql)
      try {
        if (reader) {
          const described = statement.columns() as { name: string; type: string | null }[]
          const columns = described.map((c) => c.name)
          const rows = (statement.all(values) as unknown[][]).map((values) => rowOf(values, columns))
          return resultSet(
            columns,
            described.map((c) => c.type ?? ''),
            rows,
            0,
            undefined,
          )
        }
        const info = statement.run(values) as { changes: number; lastInsertRowid: number | bigint }
        return resultSet([], [], [], info.changes, BigInt(info.lastInsertRowid))
      } catch (error) {
        prepared.delete(sql)
        throw error
      }
    } catch (error) {
      throw libsqlErrorOf(error)
    }
  }
  /** Transaction control through `exec`, never cached: a failed BEGIN is finalized at once. */
  const control = (sql: string) => {
    try {
      db.exec(sql)
    } catch (error) {
      throw libsqlErrorOf(error)
    }
  }
  const usable = () => {
    if (closed) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED')
    if (inTransaction)
      throw new LibsqlError(
        'This client has a single connection, which an open transaction is holding. Commit or roll back the transaction before using the client again.',
        'TRANSACTION_ACTIVE',
      )
  }
  /** After a call on the client: nothing it opened stays open on the connection. */
  const settle = () => {
    if (!closed && db.inTransaction) control('ROLLBACK')
  }
  const inBatch = (stmts: readonly (InStatement | [string, InArgs?])[]): ResultSet[] =>
    stmts.map((stmt, i) => {
      try {
        if (!db.inTransaction)
          throw new LibsqlBatchError('The transaction has been rolled back', i, 'TRANSACTION_CLOSED')
        return run(stmt)
      } catch (error) {
        if (error instanceof LibsqlBatchError || !(error instanceof LibsqlError)) throw error
        throw new LibsqlBatchError(
          error.message,
          i,
          error.code,
          error.extendedCode,
          error.rawCode,
          error.cause instanceof Error ? error.cause : undefined,
        )
      }
    })

  const client: Client = {
    async execute(stmt: InStatement | string, args?: InArgs) {
      usable()
      try {
        return run(typeof stmt === 'string' ? { sql: stmt, args: args ?? [] } : stmt)
      } finally {
        settle()
      }
    },
    async batch(stmts, mode = 'deferred') {
      usable()
      try {
        control(BEGIN[mode])
        const results = inBatch(stmts)
        control('COMMIT')
        return results
      } finally {
        settle()
      }
    },
    async migrate(stmts) {
      usable()
      try {
        control('PRAGMA foreign_keys=off')
        control(BEGIN.deferred)
        const results = inBatch(stmts)
        control('COMMIT')
        return results
      } finally {
        settle()
        control('PRAGMA foreign_keys=on')
      }
    },
    async transaction(mode: TransactionMode = 'write') {
      usable()
      control(BEGIN[mode])
      inTransaction = true
      let open = true
      /** Gives the connection back with no transaction left open on it (a COMMIT that failed leaves one). */
      const end = () => {
        if (!open) return
        open = false
        inTransaction = false
        if (closed || !db.inTransaction) return
        try {
          control('ROLLBACK')
        } catch {
          // Nothing more to undo here: the next BEGIN fails and says why.
        }
      }
      const live = () => {
        if (!open || closed || !db.inTransaction)
          throw new LibsqlError('The transaction is closed', 'TRANSACTION_CLOSED')
      }
      const tx: Transaction = {
        async execute(stmt: InStatement) {
          live()
          return run(stmt)
        },
        async batch(stmts) {
          live()
          return inBatch(stmts)
        },
        async executeMultiple(sql) {
          live()
          control(sql)
        },
        async rollback() {
          end()
        },
        async commit() {
          try {
            live()
            control('COMMIT')
          } finally {
            end()
          }
        },
        close() {
          end()
        },
        get closed() {
          return !open || closed || !db.inTransaction
        },
      }
      return tx
    },
    async executeMultiple(sql) {
      usable()
      try {
        control(sql)
      } finally {
        settle()
      }
    },
    async sync() {
      throw new LibsqlError('sync is only for embedded replicas', 'SYNC_NOT_SUPPORTED')
    },
    close() {
      if (closed) return
      closed = true
      prepared.clear()
      if (db.open) db.close()
    },
    reconnect() {
      client.close()
      db = new Database(path, { timeout })
      closed = false
      inTransaction = false
    },
    get closed() {
      return closed
    },
    protocol: 'file',
  }
  return client
}
