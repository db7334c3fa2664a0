/**
 * The libSQL client's surface (execute, batch, transaction) over a PostgreSQL pool, so the notification stores —
 * drizzle's SQLite builder and a few statements written by hand — run unchanged on PostgreSQL. What differs is
 * translated here, once: `?` / `?N` placeholders become `$N`, `json_object(` is `json_build_object(`, and
 * `changes()` (rows changed by the statement before, in a batch or transaction) is written in as the number
 * it was. Numbers are bound as int8 / float8 (as SQLite takes them), rows come back as libSQL rows (by index and
 * by column name), int8 as numbers and json as text.
 */
import { postgresText } from '@flotilla/service-kit'
import type { Client, InArgs, InStatement, InValue, ResultSet, Row, Transaction } from '@libsql/client'
import type { ReservedSql, Sql } from 'postgres'

const INT8 = 20
const FLOAT8 = 701

/** SQLite-flavoured SQL as PostgreSQL runs it; quoted text and identifiers are left alone. */
export const toPostgresSql = (text: string, changes: number): string => {
  let out = ''
  let positional = 0
  for (let i = 0; i < text.length; ) {
    const ch = text[i] as string
    if (ch === "'" || ch === '"') {
      let end = i + 1
      // A doubled quote inside is the quote itself.
      while (end < text.length && !(text[end] === ch && text[end + 1] !== ch)) end += text[end] === ch ? 2 : 1
      out += text.slice(i, end + 1)
      i = end + 1
    } else if (ch === '?') {
      let end = i + 1
      while (end < text.length && /\d/.test(text[end] as string)) end++
      out += `$${end > i + 1 ? text.slice(i + 1, end) : ++positional}`
      i = end
    } else {
      out += ch
      i++
    }
  }
  return out.replace(/\bjson_object\(/gi, 'json_build_object(').replace(/\bchanges\(\)/gi, String(changes))
}

const paramOf = (sql: Sql, value: InValue | undefined): unknown => {
  if (value === undefined || value === null) return null
  if (typeof value === 'number')
    return sql.typed(
      Number.isSafeInteger(value) ? String(value) : value,
      Number.isSafeInteger(value) ? INT8 : FLOAT8,
    )
  if (typeof value === 'boolean') return sql.typed(value ? '1' : '0', INT8)
  if (typeof value === 'bigint') return value
  if (value instanceof Date) return sql.typed(String(value.getTime()), INT8)
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  return postgresText(value)
}

const statementOf = (stmt: InStatement): { sql: string; args: readonly InValue[] } => {
  if (typeof stmt === 'string') return { sql: stmt, args: [] }
  const args: InArgs = stmt.args ?? []
  if (!Array.isArray(args)) throw new Error('named arguments are not supported on PostgreSQL')
  return { sql: stmt.sql, args }
}

/** A postgres.js result as a libSQL ResultSet: rows readable by index (hidden) and by column name. */
const resultSetOf = (
  result: { columns?: readonly { name: string }[]; count: number } & unknown[][],
): ResultSet => {
  const columns = (result.columns ?? []).map((c) => c.name)
  const rows = result.map((values) => {
    const row = {} as Row
    Object.defineProperty(row, 'length', { value: values.length })
    values.forEach((value, i) => {
      Object.defineProperty(row, i, { value })
      const name = columns[i] as string
      if (!Object.hasOwn(row, name))
        Object.defineProperty(row, name, { value, enumerable: true, configurable: true, writable: true })
    })
    return row
  })
  return {
    columns,
    columnTypes: columns.map(() => ''),
    rows,
    rowsAffected: result.count ?? 0,
    lastInsertRowid: undefined,
    toJSON: () => ({
      columns,
      rows: rows.map((r) => Array.from(r as ArrayLike<unknown>)),
      rowsAffected: result.count,
    }),
  }
}

/** Runs statements in order on one session, each seeing how many rows the one before changed. */
const runner = (sql: Sql, session: Sql | ReservedSql) => {
  let changes = 0
  return async (stmt: InStatement): Promise<ResultSet> => {
    const { sql: text, args } = statementOf(stmt)
    const result = await session
      .unsafe(toPostgresSql(text, changes), args.map((a) => paramOf(sql, a)) as never[], { prepare: true })
      .values()
    const set = resultSetOf(result as never)
    changes = set.rowsAffected
    return set
  }
}

/** A transaction on a reserved connection, driven by BEGIN / COMMIT as libSQL's is. */
const openTransaction = async (sql: Sql): Promise<Transaction> => {
  const session = await sql.reserve()
  let closed = false
  const end = async (statement: 'COMMIT' | 'ROLLBACK') => {
    if (closed) return
    closed = true
    try {
      await session.unsafe(statement)
    } finally {
      session.release()
    }
  }
  try {
    await session.unsafe('BEGIN')
  } catch (error) {
    closed = true
    session.release()
    throw error
  }
  const run = runner(sql, session)
  return {
    execute: run,
    async batch(stmts) {
      const out: ResultSet[] = []
      for (const stmt of stmts) out.push(await run(stmt))
      return out
    },
    async executeMultiple(text) {
      await session.unsafe(text)
    },
    commit: () => end('COMMIT'),
    rollback: () => end('ROLLBACK'),
    close() {
      void end('ROLLBACK').catch(() => {})
    },
    get closed() {
      return closed
    },
  } as Transaction
}

/**
 * A libSQL `Client` over `sql`: `usable` runs before every call (the kit's boot guard), `close` ends the pool.
 * Only what the notification stores use is there; `sync` and `migrate` throw.
 */
export const libsqlClientOver = (
  sql: Sql,
  usable: () => Promise<void>,
  close: () => Promise<void>,
): Client => {
  let closed = false
  const client = {
    async execute(stmt: InStatement | string, args?: InArgs) {
      await usable()
      return runner(sql, sql)(typeof stmt === 'string' && args ? { sql: stmt, args } : stmt)
    },
    async batch(stmts: InStatement[]) {
      await usable()
      return (await sql.begin(async (tx) => {
        const run = runner(sql, tx as unknown as Sql)
        const out: ResultSet[] = []
        for (const stmt of stmts) out.push(await run(stmt))
        return out
      })) as ResultSet[]
    },
    async transaction() {
      await usable()
      return openTransaction(sql)
    },
    async executeMultiple(text: string) {
      await usable()
      await sql.unsafe(text)
    },
    async migrate() {
      throw new Error('migrate is not supported on PostgreSQL (the kit migrates at boot)')
    },
    async sync() {
      throw new Error('sync is not supported on PostgreSQL')
    },
    close() {
      closed = true
      void close()
    },
    get closed() {
      return closed
    },
    protocol: 'postgres',
  }
  return client as unknown as Client
}
