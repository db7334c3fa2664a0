/**
 * The counting transaction of a local libSQL file on its own `libsql` driver connection, with its statements
 * prepared once and kept. @libsql/client prepares every statement anew (BEGIN, SAVEPOINT, the three counting
 * statements, RELEASE and COMMIT, each batch) and runs each through its async wrapper; the driver underneath
 * keeps a statement for as long as we hold it. Only the ingest transaction runs here; everything else stays on
 * the database's @libsql/client, under the same in-process write lock (libsql.ts).
 */
import Database, { type Statement } from 'libsql'
import { ingestTxOn } from './libsql-statements.ts'
import type { IngestTx } from './types.ts'

export interface LocalIngest {
  /** Runs `fn` in one BEGIN IMMEDIATE … COMMIT; on any error rolls back, so nothing of it is written. */
  ingest<T>(fn: (tx: IngestTx) => Promise<T>): Promise<T>
  /** Closes the connection (after a transaction still running); safe to call again. */
  close(): void
}

/** Opens the ingest's connection to the (already migrated, WAL-mode) file at `path`. */
export const openLocalIngest = (path: string, busyTimeoutMs: number): LocalIngest => {
  const db = new Database(path, { timeout: busyTimeoutMs })
  // `synchronous` stays FULL (the default), as on the database's other connection: the commit has synced the
  // WAL when it returns, and the batch is acked after.
  // Each statement prepared on first use and kept for the connection's life.
  const statements = new Map<string, Statement>()
  const prepared = (text: string) => {
    let statement = statements.get(text)
    if (!statement) {
      statement = db.prepare(text)
      statements.set(text, statement)
    }
    return statement
  }
  const begin = prepared('BEGIN IMMEDIATE')
  const commit = prepared('COMMIT')
  const rollback = prepared('ROLLBACK')
  const tx = ingestTxOn({
    run: (text, args = []) => prepared(text).run([...args]).changes,
    rows: (text, args) =>
      prepared(text)
        .raw(true)
        .all([...args]) as unknown[][],
    runEach: (text, argLists) => {
      for (const args of argLists) prepared(text).run([...args])
    },
  })

  let closed = false
  // A close during a transaction waits for it: the driver must not lose its connection mid-statement.
  let running = false
  return {
    async ingest(fn) {
      if (closed) throw new Error('The analytics database is closed')
      running = true
      try {
        begin.run()
        try {
          const result = await fn(tx)
          commit.run()
          return result
        } catch (error) {
          if (db.inTransaction) rollback.run()
          throw error
        }
      } finally {
        running = false
        if (closed) db.close()
      }
    },
    close() {
      if (closed) return
      closed = true
      if (!running) db.close()
    },
  }
}
