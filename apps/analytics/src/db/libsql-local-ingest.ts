/**
 * The counting transaction of a local libSQL file on its own `libsql` driver connection, with its statements
 * prepared once and kept. @libsql/client prepares every statement anew (BEGIN, SAVEPOINT, the three counting
 * statements, RELEASE and COMMIT, each batch) and runs each through its async wrapper; the driver underneath
 * keeps a statement for as long as we hold it. Only the ingest transaction runs here; everything else stays on
 * the database's @libsql/client, under the same in-process write lock (libsql.ts).
 */
import Database from 'libsql'
import {
  ADD_MINUTE_COUNTS,
  MARK_DIRTY,
  READ_SKETCHES,
  RECORD_IDS,
  RECORD_IDS_RETURNING,
  WRITE_SKETCH,
} from './libsql-statements.ts'
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
  const prepare = (text: string) => db.prepare(text)
  const begin = prepare('BEGIN IMMEDIATE')
  const commit = prepare('COMMIT')
  const rollback = prepare('ROLLBACK')
  const savepoint = prepare('SAVEPOINT record_ids')
  const rollbackTo = prepare('ROLLBACK TO record_ids')
  const release = prepare('RELEASE record_ids')
  const recordIds = prepare(RECORD_IDS)
  const recordIdsReturning = prepare(RECORD_IDS_RETURNING).raw(true)
  const addMinuteCounts = prepare(ADD_MINUTE_COUNTS)
  const markDirty = prepare(MARK_DIRTY)
  const readSketches = prepare(READ_SKETCHES).raw(true)
  const writeSketch = prepare(WRITE_SKETCH)

  // The same steps as the @libsql/client transaction (libsql.ts), statement for statement.
  const tx: IngestTx = {
    async recordIds(ids, at) {
      const args = [at, JSON.stringify(ids)]
      savepoint.run()
      const recorded = recordIds.run(args).changes
      let fresh: readonly string[]
      if (recorded === ids.length) fresh = ids
      else if (recorded === 0) fresh = []
      else {
        rollbackTo.run()
        fresh = (recordIdsReturning.all(args) as unknown[][]).map((row) => String(row[0]))
      }
      release.run()
      return fresh
    },
    async addMinuteCounts(cells) {
      addMinuteCounts.run([JSON.stringify(cells)])
    },
    async markDirty(marks) {
      markDirty.run([JSON.stringify(marks)])
    },
    async readSketches(keys) {
      const rows = readSketches.all([JSON.stringify(keys)]) as [number, Uint8Array][]
      return new Map(rows.map((r) => [Number(r[0]), new Uint8Array(r[1])]))
    },
    async writeSketches(rows) {
      for (const row of rows) writeSketch.run([...row])
    },
  }

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
