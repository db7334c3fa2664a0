/**
 * Errors of the `libsql` driver as @libsql/client reports them, for code that runs statements on the driver itself
 * (a local file's hot paths): a `LibsqlError` with SQLite's primary code by name, so callers see one kind of error.
 * Its own entry point (`@flotilla/service-kit/libsql-driver`): importing it loads the driver's native addon, which
 * apps without a libSQL file never need.
 */
import { LibsqlError } from '@libsql/client'
import Database from 'libsql'

// SQLite's primary result codes, by number (`rawCode & 0xff`), as @libsql/client names them in its errors.
const CODES = `OK ERROR INTERNAL PERM ABORT BUSY LOCKED NOMEM READONLY INTERRUPT IOERR CORRUPT NOTFOUND FULL
  CANTOPEN PROTOCOL EMPTY SCHEMA TOOBIG CONSTRAINT MISMATCH MISUSE NOLFS AUTH FORMAT RANGE NOTADB NOTICE WARNING`
  .split(/\s+/)
  .map((name) => `SQLITE_${name}`)

/** A driver error (`SqliteError`) as a `LibsqlError`; anything else unchanged. */
export const libsqlErrorOf = (error: unknown): unknown => {
  if (!(error instanceof Database.SqliteError)) return error
  const { code, rawCode } = error as unknown as { code: string; rawCode?: number }
  const base =
    rawCode === undefined ? 'SQLITE_UNKNOWN' : (CODES[rawCode & 0xff] ?? `SQLITE_UNKNOWN_${rawCode & 0xff}`)
  return new LibsqlError(error.message, base, code, rawCode, error)
}
