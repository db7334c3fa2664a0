/**
 * The delivery log in libSQL. Every change is one conditional statement, so two workers (or two copies of
 * one event) can never both hold a delivery: `claim` moves `queued` (or a `sending` whose lease expired)
 * to `sending` and only one caller gets the row back.
 */
import type { InArgs, InStatement } from '@libsql/client'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { OWED, WAITING } from '../db/migrations.ts'
import { newestFirstPage, type RowPosition } from '../db/page.ts'
import { type AttemptRow, type DeliveryRow, deliveries, deliveryAttempts } from '../db/schema.ts'
import { MARK_CANCELLED, requestLocks } from './cancel-marker.ts'
import type { DeliveryStatus } from './model.ts'
import { deliveryOf, INSERT, insertArgs, type NewDelivery, ROW } from './rows.ts'

export type { NewDelivery } from './rows.ts'

export interface Failure {
  readonly code: string
  readonly message: string
  /** Whether the provider refused for good (no message exists) or the outcome may pass with time. */
  readonly kind?: 'transient' | 'permanent'
}

export interface DeliveryPageOptions {
  readonly userId?: string | undefined
  readonly status?: DeliveryStatus | undefined
  /** The `next` of the previous page. */
  readonly after?: RowPosition | undefined
  readonly limit?: number | undefined
}

const clip = (text: string) => (text.length > 2000 ? `${text.slice(0, 1997)}...` : text)

// The statements every delivery runs, written once as short SQL (drizzle would rebuild each per call).
const SELECT_BY_ID = `SELECT ${ROW} FROM deliveries WHERE id = ?`
const SELECT_BY_KEY = `SELECT ${ROW} FROM deliveries WHERE event_id = ? AND channel = ? AND recipient = ?`
const CLAIM = `UPDATE deliveries SET status = 'sending', attempts = attempts + 1, lease_until = ?, updated_at = ?
  WHERE id = ? AND (status = 'queued' OR (status = 'sending' AND lease_until < ?)) RETURNING attempts`
// Runs right after CLAIM in its transaction: changes() is the number of rows CLAIM took (0 or 1).
const START_ATTEMPT = `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome, provider)
  SELECT id, attempts, ?, 'started', ? FROM deliveries WHERE id = ? AND changes() = 1 ON CONFLICT DO NOTHING`
// Failover: the next attempt of a delivery this worker holds (the previous attempt is finished in the same batch).
const NEXT_ATTEMPT = `UPDATE deliveries SET attempts = attempts + 1, updated_at = ?
  WHERE id = ? AND status = 'sending' AND attempts = ? RETURNING attempts`
const FINISH_ATTEMPT = `UPDATE delivery_attempts SET finished_at = ?, outcome = ?, error_code = ?, error_message = ?
  WHERE delivery_id = ? AND attempt = ?`
const MARK_SENT = `UPDATE deliveries SET status = 'sent', provider = ?, provider_message_id = ?, sent_at = ?,
  updated_at = ?, lease_until = 0, error_code = NULL, error_message = NULL, failed_over = ?
  WHERE id = ? AND status = 'sending'`
const MARK_PUBLISHED = 'UPDATE deliveries SET published_status = ? WHERE id = ?'
// The poller's work: waiting deliveries whose time came, queued ones it retries, and sends whose worker died.
/** The due query (exported for its plan test): through `deliveries_waiting`, so settled rows are never visited. */
export const SELECT_DUE = `SELECT ${ROW} FROM deliveries WHERE ${WAITING} AND due_at <= ?
  AND (status IN ('scheduled', 'held', 'queued') OR (status = 'sending' AND lease_until < ?))
  ORDER BY due_at LIMIT ?`
/** Poller-driven deliveries settled before a time whose outcome event is still owed (`deliveries_owed`). */
const SELECT_OWED = `SELECT ${ROW} FROM deliveries WHERE ${OWED} AND updated_at <= ? ORDER BY updated_at LIMIT ?`
const RELEASE = `UPDATE deliveries SET status = 'queued', updated_at = ?
  WHERE id = ? AND status IN ('scheduled', 'held') AND due_at <= ?`
const POSTPONE = `UPDATE deliveries SET due_at = ?, updated_at = ? WHERE id = ? AND status = 'queued'`
// What a cancel may still stop: waiting, queued by the poller and never tried, or collected for an open digest.
const CANCEL = `UPDATE deliveries SET status = 'cancelled', updated_at = ? WHERE request_key = ? AND (
  status IN ('scheduled', 'held') OR (status = 'queued' AND due_at IS NOT NULL AND attempts = 0)
  OR (status = 'digested' AND digest_id IS NULL)) RETURNING ${ROW}`
// Digests: the open window of a group (its first member's due time), groups whose window has closed, their members.
const OPEN_DIGEST = `SELECT min(due_at) AS due_at FROM deliveries
  WHERE digest_key = ? AND status = 'digested' AND digest_id IS NULL`
const DUE_DIGESTS = `SELECT digest_key FROM deliveries WHERE digest_key IS NOT NULL AND status = 'digested'
  AND digest_id IS NULL GROUP BY digest_key HAVING min(due_at) <= ? ORDER BY min(due_at) LIMIT ?`
const DIGEST_MEMBERS = `SELECT ${ROW} FROM deliveries WHERE digest_key = ? AND status = 'digested' AND digest_id IS NULL
  ORDER BY created_at, id`
const SELECT_BY_REQUEST_KEY = `SELECT ${ROW} FROM deliveries WHERE request_key = ? ORDER BY created_at, id`

/** A drizzle query as a statement for a batch. */
const statementOf = (query: { toSQL(): { sql: string; params: unknown[] } }): InStatement => {
  const built = query.toSQL()
  return { sql: built.sql, args: built.params as InArgs }
}

/** Creates the store over a drizzle database. */
export const createDeliveryStore = (db: Db) => {
  const client = db.$client
  const postgres = client.protocol === 'postgres'
  const write = <T>(fn: () => Promise<T>) => retryWhileBusy(fn)
  /**
   * Runs `statement` after the lock of `requestKey` (PostgreSQL: in one transaction; libSQL: alone, one writer at a
   * time); resolves to its result (`cancel-marker.ts`).
   */
  const writeLocked = async (requestKey: string | null | undefined, statement: InStatement) => {
    const locks = requestKey ? requestLocks(postgres, [requestKey]) : []
    if (locks.length === 0) return write(() => client.execute(statement))
    const results = await write(() => client.batch([...locks, statement], 'write'))
    return results.at(-1) as (typeof results)[number]
  }
  const get = async (id: string): Promise<DeliveryRow | undefined> => {
    const [raw] = (await client.execute({ sql: SELECT_BY_ID, args: [id] })).rows
    return raw ? deliveryOf(raw) : undefined
  }
  const finishAttempt = (id: string, attempt: number, outcome: string, failure?: Failure): InStatement => ({
    sql: FINISH_ATTEMPT,
    args: [Date.now(), outcome, failure?.code ?? null, failure ? clip(failure.message) : null, id, attempt],
  })
  /** Runs `statements` in one write transaction, then reads the delivery back in it. */
  const writeThenGet = async (id: string, statements: InStatement[]): Promise<DeliveryRow | undefined> => {
    const results = await write(() =>
      client.batch([...statements, { sql: SELECT_BY_ID, args: [id] }], 'write'),
    )
    const raw = results.at(-1)?.rows[0]
    return raw ? deliveryOf(raw) : undefined
  }

  /** Creates the delivery unless it exists (the unique key decides), telling whether this call created it. */
  const insert = async (d: NewDelivery): Promise<{ row: DeliveryRow; created: boolean }> => {
    // Recorded `cancelled` when its request was cancelled (the statement checks the marker).
    const inserted = await writeLocked(d.requestKey, { sql: INSERT, args: insertArgs(d, Date.now()) })
    const [raw] = inserted.rows.length
      ? inserted.rows
      : (await client.execute({ sql: SELECT_BY_KEY, args: [d.eventId, d.channel, d.recipient] })).rows
    if (!raw) throw new Error(`delivery ${d.id} vanished after insert`)
    return { row: deliveryOf(raw), created: inserted.rows.length > 0 }
  }

  return {
    get,

    /** Creates the delivery unless it exists (the unique key decides); returns the stored row. */
    ensure: async (d: NewDelivery): Promise<DeliveryRow> => (await insert(d)).row,

    insert,

    /**
     * Takes the delivery for one attempt until `leaseUntil` and records the attempt, in one transaction;
     * resolves to the attempt number, or undefined when someone else holds it or it is settled.
     */
    async claim(id: string, leaseUntil: number, provider: string): Promise<number | undefined> {
      const now = Date.now()
      const [claimed] = await write(() =>
        client.batch(
          [
            { sql: CLAIM, args: [leaseUntil, now, id, now] },
            { sql: START_ATTEMPT, args: [now, provider, id] },
          ],
          'write',
        ),
      )
      const attempts = claimed?.rows[0]?.attempts
      return attempts === undefined || attempts === null ? undefined : Number(attempts)
    },

    /**
     * Failover: finishes attempt `attempt` (outcome `failover`, with why) and starts the next one through
     * `provider`, in one transaction, while this worker still holds the delivery; resolves to the new attempt
     * number, or undefined when the delivery moved on meanwhile.
     */
    async handOver(
      id: string,
      attempt: number,
      failure: Failure,
      provider: string,
    ): Promise<number | undefined> {
      const now = Date.now()
      const [, next] = await write(() =>
        client.batch(
          [
            finishAttempt(id, attempt, 'failover', failure),
            { sql: NEXT_ATTEMPT, args: [now, id, attempt] },
            { sql: START_ATTEMPT, args: [now, provider, id] },
          ],
          'write',
        ),
      )
      const attempts = next?.rows[0]?.attempts
      return attempts === undefined || attempts === null ? undefined : Number(attempts)
    },

    /** An attempt that ended without a record (its worker died mid-send): outcome `abandoned`. */
    async markAbandoned(id: string, attempt: number) {
      const statement = finishAttempt(id, attempt, 'abandoned', {
        code: 'LEASE_EXPIRED',
        message: 'the worker stopped before recording an answer (crash or stall)',
      })
      await write(() => client.execute(statement))
    },

    /** The provider accepted attempt `attempt`: the delivery and its attempt settle together; resolves to the row. */
    async markSent(
      id: string,
      attempt: number,
      provider: string,
      providerMessageId: string,
      failedOver = false,
    ) {
      const now = Date.now()
      return writeThenGet(id, [
        { sql: MARK_SENT, args: [provider, providerMessageId, now, now, failedOver ? 1 : 0, id] },
        finishAttempt(id, attempt, 'sent'),
      ])
    },

    /** A transient failure: back to `queued` (the event is retried later), the error kept; with its attempt. */
    async markRetry(id: string, attempt: number, provider: string, failure: Failure) {
      const update = db
        .update(deliveries)
        .set({
          status: 'queued',
          provider,
          leaseUntil: 0,
          failureKind: 'transient',
          errorCode: failure.code,
          errorMessage: clip(failure.message),
          updatedAt: Date.now(),
        })
        .where(and(eq(deliveries.id, id), eq(deliveries.status, 'sending')))
      const statements = [statementOf(update), finishAttempt(id, attempt, 'retry', failure)]
      await write(() => client.batch(statements, 'write'))
    },

    /**
     * Settles a delivery as `failed` or `dead` (with the attempt, when one was made), in one transaction;
     * resolves to the row.
     */
    async markFinal(
      id: string,
      status: 'failed' | 'dead',
      failure: Failure,
      attempt?: { number: number; outcome: string; provider?: string },
    ) {
      const update = db
        .update(deliveries)
        .set({
          status,
          leaseUntil: 0,
          failureKind: failure.kind ?? 'transient',
          errorCode: failure.code,
          errorMessage: clip(failure.message),
          updatedAt: Date.now(),
          ...(attempt?.provider ? { provider: attempt.provider } : {}),
        })
        .where(and(eq(deliveries.id, id), inArray(deliveries.status, ['queued', 'sending'])))
      return writeThenGet(id, [
        statementOf(update),
        ...(attempt ? [finishAttempt(id, attempt.number, attempt.outcome, failure)] : []),
      ])
    },

    /**
     * A replayed dead letter gets another chance: `dead` → `queued` (with content now, if it had none), under a
     * new idempotency key generation only when the provider had refused it for good. Its published marker is
     * cleared: the failure it published is behind it, and the outcome it reaches next is owed until published
     * (the poller's sweep of owed outcomes only looks at rows without a marker). A delivery of a cancelled request
     * becomes `cancelled` instead: the cancel stopped it before it went out.
     */
    async revive(row: Pick<DeliveryRow, 'id' | 'requestKey'>, content: string | null) {
      const update = db
        .update(deliveries)
        .set({
          status: sql.raw(`CASE WHEN EXISTS (SELECT 1 FROM cancelled_requests
            WHERE cancelled_requests.request_key = deliveries.request_key) THEN 'cancelled' ELSE 'queued' END`),
          publishedStatus: null,
          content: sql`coalesce(${deliveries.content}, ${content})`,
          keyGeneration: sql`${deliveries.keyGeneration} + (case when ${deliveries.failureKind} = 'permanent' then 1 else 0 end)`,
          updatedAt: Date.now(),
        })
        .where(and(eq(deliveries.id, row.id), eq(deliveries.status, 'dead')))
      await writeLocked(row.requestKey, statementOf(update))
    },

    /** Deliveries the due-time poller should move now (due first), at most `limit`. */
    async due(now: number, limit: number): Promise<DeliveryRow[]> {
      const { rows } = await client.execute({ sql: SELECT_DUE, args: [now, now, limit] })
      return rows.map(deliveryOf)
    },

    /**
     * Deliveries the poller drove that settled at or before `settledBefore` and still owe their outcome event
     * (the publish after their settle failed), oldest first, at most `limit`.
     */
    async owedOutcomes(settledBefore: number, limit: number): Promise<DeliveryRow[]> {
      const { rows } = await client.execute({ sql: SELECT_OWED, args: [settledBefore, limit] })
      return rows.map(deliveryOf)
    },

    /** A scheduled or held delivery whose time came → `queued`; false when it was not waiting any more. */
    async release(id: string, now: number): Promise<boolean> {
      const { rowsAffected } = await write(() => client.execute({ sql: RELEASE, args: [now, id, now] }))
      return rowsAffected === 1
    },

    /** A poller-driven delivery to retry: the poller takes it again at `dueAt`. */
    async postpone(id: string, dueAt: number) {
      await write(() => client.execute({ sql: POSTPONE, args: [dueAt, Date.now(), id] }))
    },

    /**
     * Cancels what a request (by its idempotency key) has not sent yet, and marks the request cancelled when it
     * is known (has a delivery), so a delivery of it recorded later is recorded `cancelled`; resolves to the
     * cancelled rows and to every row of the request (as they are now).
     */
    async cancel(requestKey: string): Promise<{ cancelled: DeliveryRow[]; all: DeliveryRow[] }> {
      const now = Date.now()
      const locks = requestLocks(postgres, [requestKey])
      // The marker commits with the update (when the request is known), so what records later is cancelled too.
      const results = await write(() =>
        client.batch(
          [
            ...locks,
            { sql: CANCEL, args: [now, requestKey] },
            { sql: MARK_CANCELLED, args: [requestKey, now, requestKey] },
            { sql: SELECT_BY_REQUEST_KEY, args: [requestKey] },
          ],
          'write',
        ),
      )
      const [cancelled, , all] = results.slice(locks.length)
      return { cancelled: (cancelled?.rows ?? []).map(deliveryOf), all: (all?.rows ?? []).map(deliveryOf) }
    },

    /** When the open digest window of a group closes, if one is open. */
    async openDigest(digestKey: string): Promise<number | undefined> {
      const [raw] = (await client.execute({ sql: OPEN_DIGEST, args: [digestKey] })).rows
      return raw?.due_at === null || raw?.due_at === undefined ? undefined : Number(raw.due_at)
    },

    /** Digest groups whose window has closed (oldest first), at most `limit`. */
    async dueDigests(now: number, limit: number): Promise<string[]> {
      const { rows } = await client.execute({ sql: DUE_DIGESTS, args: [now, limit] })
      return rows.map((raw) => String(raw.digest_key))
    },

    /** The members of a group still waiting for their digest, oldest first. */
    async digestMembers(digestKey: string): Promise<DeliveryRow[]> {
      const { rows } = await client.execute({ sql: DIGEST_MEMBERS, args: [digestKey] })
      return rows.map(deliveryOf)
    },

    /**
     * Closes a digest: records `digest` (the delivery that sends it) and points every member at it, in one
     * transaction, only if every member was still waiting (another poller did not take one meanwhile); resolves
     * to whether it did.
     */
    async collect(digest: NewDelivery, memberIds: readonly string[]): Promise<boolean> {
      return write(async () => {
        const tx = await client.transaction('write')
        try {
          const now = Date.now()
          const placeholders = memberIds.map(() => '?').join(', ')
          const taken = await tx.execute({
            sql: `UPDATE deliveries SET digest_id = ?, updated_at = ? WHERE id IN (${placeholders})
              AND status = 'digested' AND digest_id IS NULL`,
            args: [digest.id, now, ...memberIds],
          })
          if (taken.rowsAffected !== memberIds.length) {
            await tx.rollback()
            return false
          }
          await tx.execute({ sql: INSERT, args: insertArgs(digest, now) })
          await tx.commit()
          return true
        } finally {
          tx.close()
        }
      })
    },

    /** Remembers that the event for `status` has been published (so a redelivery does not publish again). */
    async markPublished(id: string, status: string) {
      await write(() => client.execute({ sql: MARK_PUBLISHED, args: [status, id] }))
    },

    /** A provider webhook moved a sent delivery on; false when the transition does not apply. */
    async markOutcome(
      id: string,
      status: 'delivered' | 'bounced' | 'complained',
      at: number,
    ): Promise<boolean> {
      const from: DeliveryStatus[] =
        status === 'delivered' ? ['sending', 'sent'] : ['sending', 'sent', 'delivered']
      const rows = await write(() =>
        db
          .update(deliveries)
          .set({ status, updatedAt: Date.now(), ...(status === 'delivered' ? { deliveredAt: at } : {}) })
          .where(and(eq(deliveries.id, id), inArray(deliveries.status, from)))
          .returning({ id: deliveries.id }),
      )
      return rows.length > 0
    },

    async findByProviderMessage(provider: string, providerMessageId: string) {
      const [row] = await db
        .select()
        .from(deliveries)
        .where(and(eq(deliveries.provider, provider), eq(deliveries.providerMessageId, providerMessageId)))
      return row
    },

    async attempts(id: string): Promise<AttemptRow[]> {
      return db
        .select()
        .from(deliveryAttempts)
        .where(eq(deliveryAttempts.deliveryId, id))
        .orderBy(deliveryAttempts.attempt)
    },

    /** Newest first, cursor pagination, filtered by user and status. */
    list: ({ userId, status, after, limit = 20 }: DeliveryPageOptions) =>
      newestFirstPage(
        (where, rows) =>
          db
            .select()
            .from(deliveries)
            .where(where)
            .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
            .limit(rows),
        deliveries,
        [
          userId ? eq(deliveries.userId, userId) : undefined,
          status ? eq(deliveries.status, status) : undefined,
        ],
        after,
        limit,
      ),

    /** Count by status (tests and metrics). */
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await db
        .select({ status: deliveries.status, n: sql<number>`count(*)` })
        .from(deliveries)
        .groupBy(deliveries.status)
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
    },
  }
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>
