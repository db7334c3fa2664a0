/**
 * Writes against a libSQL file another process also writes: when SQLite's own busy timeout runs out, retry
 * asynchronously (jittered, capped backoff) instead of failing, until a deadline.
 */

const BUSY = /SQLITE_BUSY|database is locked/

/** Whether an error (or any error in its `cause` chain) is SQLite's "database is locked". */
export const isBusyError = (error: unknown): boolean => {
  if (typeof error === 'string') return BUSY.test(error)
  const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null
  if (!e) return false
  if (e.code === 'SQLITE_BUSY' || (typeof e.message === 'string' && BUSY.test(e.message))) return true
  return e.cause !== undefined && e.cause !== error && isBusyError(e.cause)
}

export interface RetryWhileBusyOptions {
  /** Give up (rethrow) once this long has passed. @defaultValue 30000 */
  readonly deadlineMs?: number
  /**
   * Run a full GC before each retry. On a pooled client, a failed BEGIN IMMEDIATE keeps its read snapshot until
   * the statement is collected (the client does not reset it), and every later BEGIN on that connection then
   * fails with SQLITE_BUSY_SNAPSHOT; collecting finalizes it (measured: without it one process stayed stuck
   * until its deadline). @defaultValue false
   */
  readonly collectGarbage?: boolean
}

/**
 * Runs `fn` (one write or write transaction), retrying while the database is locked by another process.
 * @example await retryWhileBusy(() => client.execute(stmt), { deadlineMs: 20_000 })
 */
export const retryWhileBusy = async <T>(
  fn: () => Promise<T>,
  { deadlineMs = 30_000, collectGarbage = false }: RetryWhileBusyOptions = {},
): Promise<T> => {
  const started = Date.now()
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (!isBusyError(error) || Date.now() - started > deadlineMs) throw error
      if (collectGarbage) Bun.gc(true)
      await Bun.sleep(1 + Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)))
    }
  }
}
