/**
 * A cancel is durable: it leaves a marker per request key (`cancelled_requests`), and every path that records a
 * delivery checks it, so a channel recorded after the cancel is recorded `cancelled` and never goes out.
 *
 * The check and the cancel must not interleave. On libSQL one writer at a time does it: the check runs inside
 * the inserting statement (or its write transaction), the cancel's update and marker in one write batch. On
 * PostgreSQL (read committed, several replicas) it does not: a recording whose snapshot predates the marker's
 * commit, racing a cancel whose update predates the recording's commit, would both miss each other. So both take
 * a transaction-scoped advisory lock per request key first, and run the check (or the cancel) in a later
 * statement of that transaction, whose snapshot then sees whatever the other committed. Locks are taken in
 * ascending order so two batches never wait on each other in a cycle; a key's lock is (this schema, 32 bits of
 * its SHA-256): a collision only makes two requests wait for each other, never breaks the exclusion.
 */
import { createHash } from 'node:crypto'
import type { InStatement } from '@libsql/client'

/** Statuses that would go out: a delivery recorded in one of them for a cancelled request is recorded `cancelled`. */
const WOULD_SEND = ['scheduled', 'held', 'queued', 'digested'] as const

/**
 * The status column's value in `INSERT`: `cancelled` when the request's marker exists and the delivery would go
 * out. Its arguments: `recordedStatusArgs`.
 */
export const RECORDED_STATUS = `CASE WHEN ? IN (${WOULD_SEND.map((s) => `'${s}'`).join(', ')})
  AND EXISTS (SELECT 1 FROM cancelled_requests WHERE request_key = ?) THEN 'cancelled' ELSE ? END`
export const recordedStatusArgs = (status: string, requestKey: string | null | undefined) => [
  status,
  requestKey ?? null,
  status,
]

/** `RECORDED_STATUS` in JavaScript, for a caller that read the markers in the transaction that inserts. */
export const recordedStatus = (status: string, cancelled: boolean): string =>
  cancelled && (WOULD_SEND as readonly string[]).includes(status) ? 'cancelled' : status

/** Writes the marker of a request that is known (has a delivery); a cancel of an unknown key leaves none. */
export const MARK_CANCELLED = `INSERT INTO cancelled_requests (request_key, cancelled_at)
  SELECT ?, ? WHERE EXISTS (SELECT 1 FROM deliveries WHERE request_key = ?) ON CONFLICT DO NOTHING`

const marks = (n: number) => Array.from({ length: n }, () => '(?)').join(', ')

/** Which of `keys` are cancelled (read inside the transaction that records, after its locks). */
export const markerLookup = (keys: readonly string[]): InStatement => ({
  sql: `SELECT request_key FROM cancelled_requests WHERE ${keys.length === 0 ? '1 = 0' : `request_key IN (${keys.map(() => '?').join(', ')})`}`,
  args: [...keys],
})

/** The distinct request keys of some deliveries. */
export const requestKeysOf = (ds: readonly { requestKey?: string | null }[]): string[] => [
  ...new Set(ds.flatMap((d) => (d.requestKey ? [d.requestKey] : []))),
]

const lockOf = (key: string) => createHash('sha256').update(key).digest().readInt32BE(0)

/** Keys per lock statement (one parameter each). */
const LOCK_CHUNK = 1000

/**
 * PostgreSQL: the statements that take the transaction locks of `keys`, in ascending order, to run first in the
 * transaction. libSQL: none. A VALUES list is scanned in its order, so one statement takes many in order.
 */
export const requestLocks = (postgres: boolean, keys: Iterable<string>): InStatement[] => {
  if (!postgres) return []
  const locks = [...new Set([...keys].map(lockOf))].sort((a, b) => a - b)
  const statements: InStatement[] = []
  for (let i = 0; i < locks.length; i += LOCK_CHUNK) {
    const part = locks.slice(i, i + LOCK_CHUNK)
    statements.push({
      sql: `SELECT pg_advisory_xact_lock(hashtext(current_schema()), v.h::int4) FROM (VALUES ${marks(part.length)}) AS v(h)`,
      args: part,
    })
  }
  return statements
}
