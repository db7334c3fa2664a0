/**
 * Write transactions against a shared libSQL file. BEGIN IMMEDIATE takes the write lock up front; when
 * another connection holds it we wait asynchronously (a long native busy timeout would block the event
 * loop, and with it the very transaction we wait for when both live in one process).
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
      const cap = Math.min(200, 5 * 2 ** Math.min(attempt, 6))
      await Bun.sleep(1 + Math.random() * cap)
    }
  }
}

/** Serializes async critical sections inside one process (one write transaction at a time per store). */
export const createMutex = () => {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }
}
