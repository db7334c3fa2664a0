/**
 * Write transactions against a shared libSQL file.
 *
 * - In one process, every handle on the same database takes turns through one async mutex (the kit's
 *   `mutexFor`, taken in store.ts), so a handle never waits inside SQLite for a lock that another handle of
 *   the same (blocked) event loop holds.
 * - Across processes, BEGIN IMMEDIATE waits for the write lock in SQLite's busy handler (a few ms: the
 *   other process holds it for one batch).
 * - If that wait times out anyway we retry asynchronously. The libSQL client does not reset a statement
 *   that failed, and a failed BEGIN IMMEDIATE keeps its read snapshot until the statement is collected:
 *   every later BEGIN on that pooled connection then fails with SQLITE_BUSY_SNAPSHOT. A full GC before
 *   the retry finalizes it (measured: without it one process stayed stuck until its deadline).
 */

const BUSY = /SQLITE_BUSY|database is locked/

const isBusy = (error: unknown): boolean => {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null
  if (!e) return false
  if (e.code === 'SQLITE_BUSY' || (typeof e.message === 'string' && BUSY.test(e.message))) return true
  return e.cause !== undefined && e.cause !== error && isBusy(e.cause)
}

/** Runs `fn` (one write transaction), retrying while the database is locked, until `deadlineMs` passes. */
export const retryWhileBusy = async <T>(fn: () => Promise<T>, deadlineMs = 30_000): Promise<T> => {
  const started = Date.now()
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (!isBusy(error) || Date.now() - started > deadlineMs) throw error
      Bun.gc(true)
      const cap = Math.min(200, 5 * 2 ** Math.min(attempt, 6))
      await Bun.sleep(1 + Math.random() * cap)
    }
  }
}
