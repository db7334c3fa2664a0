/**
 * The append of a local libSQL file on its own driver connection, with its prepared statements kept across
 * batches. @libsql/client prepares every statement anew (the 200-row INSERT takes ~0.65 ms to prepare,
 * every batch); the `libsql` driver underneath it keeps a statement for as long as we hold it. Only the
 * append runs here; everything else stays on the store's @libsql/client.
 */

import { libsqlErrorOf } from '@flotilla/service-kit/libsql-driver'
import { type InValue, LibsqlError } from '@libsql/client'
import Database from 'libsql'
import { LRUCache } from 'lru-cache'
import type { RecordInput } from '../../records/model.ts'
import type { AppendResult } from '../types.ts'
import { type AppendSql, appendIn } from './append.ts'

type Statement = Database.Statement

// Statements kept per connection: a full batch needs three (read, chain insert, INSERT); batches of other
// sizes add one per shape. Past this many the least recently used is dropped.
const MAX_STATEMENTS = 64

const SQLITE_CONSTRAINT = 19

export interface LocalAppender {
  /** Appends a batch in one BEGIN IMMEDIATE … COMMIT; on any error rolls back, so nothing of it is written. */
  append(inputs: readonly RecordInput[]): Promise<AppendResult>
  /** Closes the connection; safe to call again. */
  close(): void
  /** How many prepared statements the connection keeps. */
  readonly cachedStatements: number
}

/** Opens the append's connection to the file at `path`, with the store's pragmas and busy timeout. */
export const openLocalAppender = (path: string, busyTimeoutMs: number): LocalAppender => {
  let db: Database.Database
  try {
    db = new Database(path, { timeout: busyTimeoutMs })
    // Runs to completion (all), so no half-read statement keeps a read snapshot open.
    db.prepare('PRAGMA journal_mode = WAL').all()
  } catch (error) {
    throw libsqlErrorOf(error)
  }
  const statements = new LRUCache<string, Statement>({ max: MAX_STATEMENTS })
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const sql: AppendSql = {
    rows: (text: string, args: InValue[]) => prepared(text).all(args) as Record<string, unknown>[],
    run: (text: string, args: InValue[]) => prepared(text).run(args),
    // SQLITE_CONSTRAINT (any extended code): the statement is undone, the transaction stays open.
    isConstraintFailure: (error) =>
      error instanceof Database.SqliteError &&
      (((error as { rawCode?: number }).rawCode ?? 0) & 0xff) === SQLITE_CONSTRAINT &&
      db.inTransaction,
  }
  let closed = false
  // A close during an append waits for it: the driver aborts the process on a closed connection's state.
  let appending = false
  const shut = () => {
    statements.clear()
    db.close()
  }

  return {
    async append(inputs) {
      if (closed) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED')
      appending = true
      try {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await appendIn(sql, inputs)
          db.exec('COMMIT')
          return result
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK')
          throw error
        }
      } catch (error) {
        throw libsqlErrorOf(error)
      } finally {
        appending = false
        if (closed) shut()
      }
    },

    get cachedStatements() {
      return statements.size
    },

    close() {
      if (closed) return
      closed = true
      if (!appending) shut()
    },
  }
}
