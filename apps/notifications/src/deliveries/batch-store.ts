/**
 * The delivery log's batch statements: what the per-delivery store does one row at a time (insert, claim, mark
 * sent, mark published), for many rows in a few statements, with the same conditions — a claim still takes only
 * a `queued` row (or a `sending` one whose lease expired), so two workers never hold one delivery. Plain SQL that
 * SQLite and PostgreSQL both run (`WITH v(…) AS (VALUES …)`, row values), through the PostgreSQL client's
 * placeholder translation.
 */
import type { InStatement, InValue, Transaction } from '@libsql/client'
import type { SqlExecutor } from '../channels/types.ts'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import type { DeliveryRow } from '../db/schema.ts'
import { markerLookup, recordedStatus, requestKeysOf, requestLocks } from './cancel-marker.ts'
import {
  ATTEMPTED_COLUMNS,
  ATTEMPTED_VALUES,
  attemptedArgs,
  createdRowOf,
  deliveryOf,
  INSERT_COLUMNS,
  INSERT_VALUES,
  insertArgs,
  type NewDelivery,
  ROW,
} from './rows.ts'

/** Rows per statement: at most 32 values each stays far below SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const CHUNK = 500

const chunks = <T>(items: readonly T[]): T[][] => {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

/** How long owed published markers wait for a write transaction to ride in before they are written on their own. */
const MARKER_DELAY_MS = 100

export interface DeliveryBatchStoreOptions {
  /** How long owed published markers wait for a write transaction (tests lengthen it). @defaultValue 100 */
  readonly markerDelayMs?: number
}

const marks = (n: number, group: string) => Array.from({ length: n }, () => group).join(', ')

/** Inserts new deliveries (at most CHUNK), each as given; one already stored (its unique key) is skipped. */
const insertRows = (part: readonly NewDelivery[], now: number): InStatement => ({
  sql: `INSERT INTO deliveries (${INSERT_COLUMNS}) VALUES ${marks(part.length, INSERT_VALUES)} ON CONFLICT DO NOTHING`,
  args: part.flatMap((d) => insertArgs(d, now) as InValue[]),
})

/**
 * Which deliveries of `part` exist already, found by their unique key (event, channel, recipient) rather than by
 * id: a row keeps the id it was created with, and a release that derives ids differently (ids became
 * time-ordered on 2026-12-04) must still find the row a redelivered event wrote before it. The statement reads
 * the candidates of the part's events; `storedIdsOf` keeps the ones whose key matches.
 */
const keyLookup = (part: readonly NewDelivery[]): InStatement => {
  const events = [...new Set(part.map((d) => d.eventId))]
  return {
    sql: `SELECT id, event_id, channel, recipient FROM deliveries WHERE event_id IN (${marks(events.length, '?')})`,
    args: events,
  }
}
const keyOf = (eventId: unknown, channel: unknown, recipient: unknown) =>
  `${eventId}\u0000${channel}\u0000${recipient}`

/** From `keyLookup`'s rows: planned id → stored id, for each delivery of `part` stored already. */
const storedIdsOf = (part: readonly NewDelivery[], raws: readonly Record<string, unknown>[]) => {
  const byKey = new Map(raws.map((raw) => [keyOf(raw.event_id, raw.channel, raw.recipient), String(raw.id)]))
  const stored = new Map<string, string>()
  for (const d of part) {
    const id = byKey.get(keyOf(d.eventId, d.channel, d.recipient))
    if (id !== undefined) stored.set(d.id, id)
  }
  return stored
}

/**
 * Takes `ids` for one attempt until `leaseUntil` inside `tx`: only a `queued` row, or a `sending` one whose lease
 * expired, so two workers never hold one delivery. Resolves to the taken ids with their attempt numbers.
 */
const claimIn = async (
  tx: Pick<Transaction, 'execute'>,
  ids: readonly string[],
  leaseUntil: number,
  now: number,
): Promise<{ id: string; attempt: number }[]> => {
  const taken = await tx.execute({
    sql: `UPDATE deliveries SET status = 'sending', attempts = attempts + 1, lease_until = ?, updated_at = ?
      WHERE id IN (${marks(ids.length, '?')})
      AND (status = 'queued' OR (status = 'sending' AND lease_until < ?)) RETURNING attempts || ' ' || id AS claim`,
    args: [leaseUntil, now, ...ids, now],
  })
  // One result column (`<attempt> <id>`): the local driver's cost is per column.
  return taken.rows.map(({ claim }) => {
    const [attempt, id] = String(claim).split(' ')
    return { id: String(id), attempt: Number(attempt) }
  })
}

/** A send the provider accepted, to record. */
export interface Sent {
  readonly id: string
  readonly attempt: number
  readonly provider: string
  readonly providerMessageId: string
}

export const createDeliveryBatchStore = (
  db: Db,
  { markerDelayMs = MARKER_DELAY_MS }: DeliveryBatchStoreOptions = {},
) => {
  const client = db.$client
  const postgres = client.protocol === 'postgres'
  /** The rows of `ids` as stored now. */
  const getMany = async (ids: readonly string[]): Promise<Map<string, DeliveryRow>> => {
    const rows = new Map<string, DeliveryRow>()
    for (const part of chunks([...new Set(ids)])) {
      const { rows: raws } = await client.execute({
        sql: `SELECT ${ROW} FROM deliveries WHERE id IN (${marks(part.length, '?')})`,
        args: part,
      })
      for (const raw of raws) {
        const row = deliveryOf(raw)
        rows.set(row.id, row)
      }
    }
    return rows
  }
  /** The stored rows of deliveries that existed already (planned id → stored id), under their planned ids. */
  const getExisting = async (existed: ReadonlyMap<string, string>): Promise<Map<string, DeliveryRow>> => {
    const stored = await getMany([...existed.values()])
    const rows = new Map<string, DeliveryRow>()
    for (const [planned, id] of existed) {
      const row = stored.get(id)
      if (row) rows.set(planned, row)
    }
    return rows
  }

  /**
   * Published markers owed: `notification.sent` (or `.failed`) already published for these deliveries, the
   * marker not yet written (id → marker). They ride in the next write transaction of this store, or are written
   * on their own after `markerDelayMs` when none comes (`flushMarkers`). Losing them (a crash) loses no event:
   * the event was published before the marker was owed, and a delivery whose marker is missing only publishes
   * it again, under the same id, if something goes over it again (a redelivery before its ack).
   */
  const owedMarkers = new Map<string, string>()
  let markerTimer: ReturnType<typeof setTimeout> | undefined
  const takeMarkers = (): Map<string, string> => {
    const taken = new Map(owedMarkers)
    owedMarkers.clear()
    if (markerTimer) clearTimeout(markerTimer)
    markerTimer = undefined
    return taken
  }
  /** Markers a transaction took and did not commit: owed again (unless a newer one was owed meanwhile). */
  const giveBack = (taken: ReadonlyMap<string, string>) => {
    for (const [id, marker] of taken) if (!owedMarkers.has(id)) owedMarkers.set(id, marker)
    if (owedMarkers.size > 0) scheduleMarkers()
  }
  const markerStatements = (markers: ReadonlyMap<string, string>): InStatement[] => {
    const byMarker = new Map<string, string[]>()
    for (const [id, marker] of markers) byMarker.set(marker, [...(byMarker.get(marker) ?? []), id])
    return [...byMarker].flatMap(([marker, ids]) =>
      chunks(ids).map((part) => ({
        // Only where no marker is written yet: an owed marker never overwrites a newer one.
        sql: `UPDATE deliveries SET published_status = ? WHERE id IN (${marks(part.length, '?')})
          AND published_status IS NULL`,
        args: [marker, ...part],
      })),
    )
  }
  /** Writes the owed markers in a commit of their own; kept owed when it fails. */
  const flushMarkers = async () => {
    const taken = takeMarkers()
    if (taken.size === 0) return
    try {
      await retryWhileBusy(() => client.batch(markerStatements(taken), 'write'))
    } catch (error) {
      giveBack(taken)
      throw error
    }
  }
  function scheduleMarkers() {
    if (markerTimer) return
    markerTimer = setTimeout(() => {
      markerTimer = undefined
      // A failure keeps them owed (rescheduled); the next transaction takes them otherwise.
      flushMarkers().catch(() => {})
    }, markerDelayMs)
    markerTimer.unref?.()
  }

  /**
   * `fn` in one write transaction, committed once it resolves (rolled back when it throws) and retried whole
   * while the file is busy; resolves to what `fn` returned, after the commit. The published markers owed ride in
   * it (owed again when it does not commit).
   */
  const inWriteTransaction = <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> =>
    retryWhileBusy(async () => {
      const tx = await client.transaction('write')
      const markers = takeMarkers()
      try {
        if (markers.size > 0) await tx.batch(markerStatements(markers))
        const result = await fn(tx)
        await tx.commit()
        return result
      } catch (error) {
        giveBack(markers)
        throw error
      } finally {
        tx.close()
      }
    })

  return {
    getMany,
    getExisting,

    /**
     * Creates the deliveries that do not exist yet (the unique key decides; a duplicate inside the batch is one
     * row) and reads every one back, in one transaction; resolves to the rows by id and the ids this call created.
     */
    async insertMany(
      ds: readonly NewDelivery[],
    ): Promise<{ rows: Map<string, DeliveryRow>; created: Set<string> }> {
      const unique = [...new Map(ds.map((d) => [d.id, d])).values()]
      const rows = new Map<string, DeliveryRow>()
      const created = new Set<string>()
      for (const part of chunks(unique)) {
        const now = Date.now()
        const keys = requestKeysOf(part)
        const locks = requestLocks(postgres, keys)
        // Which exist already (usually none) and which requests are cancelled, then the insert (which records the
        // deliveries of those `cancelled` itself), in one write transaction: no row read back per id.
        const results = await retryWhileBusy(() =>
          client.batch([...locks, keyLookup(part), markerLookup(keys), insertRows(part, now)], 'write'),
        )
        const [before, markers, inserted] = results.slice(locks.length)
        const cancelled = new Set((markers?.rows ?? []).map((raw) => String(raw.request_key)))
        let existed = storedIdsOf(part, before?.rows ?? [])
        const fresh = part.filter((d) => !existed.has(d.id))
        // Another process inserted one between the read and the insert (PostgreSQL runs them read-committed):
        // every row is read back as stored, and none counts as created here.
        const raced = inserted?.rowsAffected !== fresh.length
        for (const d of raced ? [] : fresh) {
          created.add(d.id)
          const status = recordedStatus(d.status, d.requestKey ? cancelled.has(d.requestKey) : false)
          rows.set(d.id, createdRowOf({ ...d, status }, now))
        }
        if (raced) existed = storedIdsOf(part, (await client.execute(keyLookup(part))).rows)
        if (existed.size > 0) for (const [id, row] of await getExisting(existed)) rows.set(id, row)
      }
      return { rows, created }
    },

    /**
     * Takes each delivery for one attempt through its provider until `leaseUntil`, and records the attempts, in
     * one transaction; resolves to the deliveries this call took (the others are held elsewhere or settled).
     */
    async claimMany(
      items: readonly { id: string; provider: string }[],
      leaseUntil: number,
    ): Promise<Map<string, number>> {
      const claimed = new Map<string, number>()
      const providers = new Map(items.map((i) => [i.id, i.provider]))
      for (const part of chunks([...providers.keys()])) {
        const got = await inWriteTransaction(async (tx) => {
          const now = Date.now()
          const taken = await claimIn(tx, part, leaseUntil, now)
          if (taken.length > 0)
            await tx.execute({
              sql: `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome, provider)
                VALUES ${marks(taken.length, "(?, ?, ?, 'started', ?)")} ON CONFLICT DO NOTHING`,
              args: taken.flatMap((c) => [c.id, c.attempt, now, providers.get(c.id) ?? null]),
            })
          return taken
        })
        for (const c of got) claimed.set(c.id, c.attempt)
      }
      return claimed
    },

    /**
     * `claimMany`, the send and `markSentMany` in one write transaction, for a transport whose send is a write to
     * this database (`Transport.sendBatchWithin`): `send` runs inside the transaction for the deliveries just
     * taken and answers per id. Accepted ones commit as `sent` with their attempt finished; the others stay
     * taken (`sending`, the attempt started), as after `claimMany`, for the caller to continue. Resolves to each
     * taken delivery's attempt, answer and commit time (`sent_at` of the accepted); a delivery missing was held elsewhere or settled.
     */
    async claimAndSendMany<R extends { providerMessageId: string } | Error>(
      items: readonly { id: string; provider: string }[],
      leaseUntil: number,
      send: (tx: SqlExecutor, taken: readonly string[]) => Promise<Map<string, R>>,
    ): Promise<Map<string, { attempt: number; answer: R; at: number }>> {
      const done = new Map<string, { attempt: number; answer: R; at: number }>()
      const providers = new Map(items.map((i) => [i.id, i.provider]))
      for (const part of chunks([...providers.keys()])) {
        const settled = await inWriteTransaction(async (tx) => {
          const now = Date.now()
          const got = await claimIn(tx, part, leaseUntil, now)
          if (got.length === 0) return []
          const answers = await send(
            tx,
            got.map((c) => c.id),
          )
          const ok = got.flatMap((c) => {
            const answer = answers.get(c.id)
            return answer && !(answer instanceof Error)
              ? [{ ...c, providerMessageId: answer.providerMessageId }]
              : []
          })
          const okIds = new Set(ok.map((o) => o.id))
          const statements: InStatement[] = [
            {
              // Accepted attempts are written finished; the others started, as a claim writes them.
              sql: `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, provider)
                  VALUES ${marks(got.length, '(?, ?, ?, ?, ?, ?)')} ON CONFLICT (delivery_id, attempt) DO UPDATE
                  SET finished_at = excluded.finished_at, outcome = excluded.outcome, error_code = NULL,
                  error_message = NULL`,
              args: got.flatMap((c) => {
                const accepted = okIds.has(c.id)
                return [
                  c.id,
                  c.attempt,
                  now,
                  accepted ? now : null,
                  accepted ? 'sent' : 'started',
                  providers.get(c.id) ?? null,
                ]
              }),
            },
          ]
          if (ok.length > 0)
            statements.push({
              sql: `WITH v(id, provider, message_id) AS (VALUES ${marks(ok.length, '(?, ?, ?)')})
                  UPDATE deliveries SET status = 'sent', provider = v.provider, provider_message_id = v.message_id,
                  sent_at = ?, updated_at = ?, lease_until = 0, error_code = NULL, error_message = NULL,
                  failed_over = 0
                  FROM v WHERE deliveries.id = v.id`,
              args: [
                ...ok.flatMap((o) => [o.id, providers.get(o.id) ?? null, o.providerMessageId]),
                now,
                now,
              ],
            })
          await tx.batch(statements)
          return got.map((c) => ({ ...c, answer: answers.get(c.id) as R, at: now }))
        })
        for (const c of settled) done.set(c.id, { attempt: c.attempt, answer: c.answer, at: c.at })
      }
      return done
    },

    /**
     * Records fresh deliveries and makes their first attempt in one write transaction, after `before` (the
     * batch's directory writes, committed with them), for transports whose send is a write to this database
     * (`Transport.sendBatchWithin`). The deliveries that do not exist yet are this call's alone (nobody else can
     * hold a row not yet written): `send` stores their messages inside the transaction and answers per id, and
     * each is inserted as its attempt left it — `sent` with the attempt finished when accepted, else `sending`
     * under a lease until `leaseUntil` with the attempt started (as a claim leaves it, for the caller to
     * continue). One that existed already (a redelivery; found by its unique key) is left as it is, for the caller
     * to read back (`getExisting`). One whose request was cancelled is not sent: it is inserted `cancelled`.
     * Resolves after the commit to the inserted rows, each with its answer, to the deliveries that existed
     * (planned id → stored id) and to those inserted `cancelled`. Throws with
     * nothing written when `before` or `send` throws, or when another process inserted one of the rows meanwhile
     * (PostgreSQL; on a libSQL file the write transaction holds the only writer).
     */
    async insertAndSendMany<R extends { providerMessageId: string } | Error>(
      items: readonly { delivery: NewDelivery; provider: string }[],
      leaseUntil: number,
      before: (tx: SqlExecutor) => Promise<void>,
      send: (tx: SqlExecutor, fresh: readonly string[]) => Promise<Map<string, R>>,
    ): Promise<{
      inserted: Map<string, { row: DeliveryRow; answer: R }>
      existed: Map<string, string>
      cancelled: Map<string, DeliveryRow>
    }> {
      const unique = [...new Map(items.map((i) => [i.delivery.id, i])).values()]
      return inWriteTransaction(async (tx) => {
        // The request locks first (PostgreSQL), before any row lock the directory upsert takes.
        const locks = requestLocks(postgres, requestKeysOf(unique.map((i) => i.delivery)))
        if (locks.length > 0) await tx.batch(locks)
        await before(tx)
        const existed = new Map<string, string>()
        const cancelledKeys = new Set<string>()
        // Which exist, and which requests are cancelled: read under the locks (or the one writer), so what a
        // cancel commits is either seen here or waits for this commit.
        for (const part of chunks(unique.map((i) => i.delivery))) {
          const [found, markers] = await tx.batch([keyLookup(part), markerLookup(requestKeysOf(part))])
          for (const [planned, id] of storedIdsOf(part, found?.rows ?? [])) existed.set(planned, id)
          for (const raw of markers?.rows ?? []) cancelledKeys.add(String(raw.request_key))
        }
        const isCancelled = (d: NewDelivery) => !!d.requestKey && cancelledKeys.has(d.requestKey)
        const inserted = new Map<string, { row: DeliveryRow; answer: R }>()
        const cancelled = new Map<string, DeliveryRow>()
        const at = Date.now()
        const stopped = unique.filter((i) => !existed.has(i.delivery.id) && isCancelled(i.delivery))
        const stoppedRows = stopped.map(({ delivery: d }) => ({
          ...d,
          status: recordedStatus(d.status, true),
        }))
        for (const part of chunks(stoppedRows)) {
          const written = await tx.execute(insertRows(part, at))
          if (written.rowsAffected !== part.length)
            throw new Error('a delivery of the batch was recorded by another process meanwhile')
          for (const d of part) cancelled.set(d.id, createdRowOf(d, at))
        }
        const fresh = unique.filter((i) => !existed.has(i.delivery.id) && !isCancelled(i.delivery))
        if (fresh.length === 0) return { inserted, existed, cancelled }
        const answers = await send(
          tx,
          fresh.map((i) => i.delivery.id),
        )
        const now = Date.now()
        for (const { delivery, provider } of fresh) {
          const answer = answers.get(delivery.id) ?? (new Error('no answer from the transport') as R)
          const accepted = !(answer instanceof Error)
          const row: DeliveryRow = {
            ...createdRowOf(delivery, now),
            status: accepted ? 'sent' : 'sending',
            attempts: 1,
            leaseUntil: accepted ? 0 : leaseUntil,
            provider: accepted ? provider : null,
            providerMessageId: accepted ? answer.providerMessageId : null,
            sentAt: accepted ? now : null,
          }
          inserted.set(delivery.id, { row, answer })
        }
        for (const part of chunks(fresh)) {
          const rows = part.map((i) => inserted.get(i.delivery.id)?.row as DeliveryRow)
          const [written] = await tx.batch([
            {
              sql: `INSERT INTO deliveries (${ATTEMPTED_COLUMNS}) VALUES ${marks(part.length, ATTEMPTED_VALUES)}
                ON CONFLICT DO NOTHING`,
              args: part.flatMap(({ delivery }, i) => {
                const row = rows[i] as DeliveryRow
                return [
                  ...(attemptedArgs({ ...delivery, status: row.status }, now) as InValue[]),
                  row.attempts,
                  row.leaseUntil,
                  row.provider,
                  row.providerMessageId,
                  row.sentAt,
                ]
              }),
            },
            {
              sql: `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, provider)
                VALUES ${marks(part.length, '(?, ?, ?, ?, ?, ?)')} ON CONFLICT (delivery_id, attempt) DO UPDATE
                SET started_at = excluded.started_at, finished_at = excluded.finished_at, outcome = excluded.outcome,
                provider = excluded.provider, error_code = NULL, error_message = NULL`,
              args: part.flatMap(({ delivery, provider }, i) => {
                const accepted = (rows[i] as DeliveryRow).status === 'sent'
                return [delivery.id, 1, now, accepted ? now : null, accepted ? 'sent' : 'started', provider]
              }),
            },
          ])
          // Another process inserted one since the read (PostgreSQL runs it read-committed): roll back, so every
          // message stored above goes too; the caller takes the path that claims.
          if (written?.rowsAffected !== part.length)
            throw new Error('a delivery of the batch was recorded by another process meanwhile')
        }
        return { inserted, existed, cancelled }
      })
    },

    /**
     * The providers accepted these attempts: each delivery still `sending` becomes `sent` and its attempt is
     * finished, in one transaction; resolves to the ids known to be written as given (all of a part, or none of it
     * when another worker moved one of its rows meanwhile: read them back).
     */
    async markSentMany(sent: readonly Sent[], now = Date.now()): Promise<Set<string>> {
      const done = new Set<string>()
      for (const part of chunks(sent)) {
        const [updated] = await retryWhileBusy(() =>
          client.batch(
            [
              {
                sql: `WITH v(id, provider, message_id) AS (VALUES ${marks(part.length, '(?, ?, ?)')})
                  UPDATE deliveries SET status = 'sent', provider = v.provider, provider_message_id = v.message_id,
                  sent_at = ?, updated_at = ?, lease_until = 0, error_code = NULL, error_message = NULL,
                  failed_over = 0
                  FROM v WHERE deliveries.id = v.id AND deliveries.status = 'sending'`,
                args: [...part.flatMap((s) => [s.id, s.provider, s.providerMessageId]), now, now],
              },
              {
                sql: `WITH v(id, attempt) AS (VALUES ${marks(part.length, '(?, ?)')})
                  UPDATE delivery_attempts SET finished_at = ?, outcome = 'sent', error_code = NULL,
                  error_message = NULL FROM v WHERE delivery_attempts.delivery_id = v.id
                  AND delivery_attempts.attempt = v.attempt`,
                args: [...part.flatMap((s) => [s.id, s.attempt]), now],
              },
            ],
            'write',
          ),
        )
        // Every row was still `sending` (the usual case), or the caller reads them all back as stored.
        if (updated?.rowsAffected === part.length) for (const s of part) done.add(s.id)
      }
      return done
    },

    /**
     * Remembers that the event for `marker` has been published for each of `ids`, in the next write transaction
     * of this store (or on its own within `markerDelayMs`): no commit of its own per batch. Only for events
     * already published (see `owedMarkers`).
     */
    markPublishedLater(ids: readonly string[], marker: string) {
      for (const id of ids) owedMarkers.set(id, marker)
      if (owedMarkers.size > 0) scheduleMarkers()
    },

    /** The marker owed for `id` (its event published by this process, the marker not yet written), if any. */
    owedMarker: (id: string): string | undefined => owedMarkers.get(id),

    /** Writes the owed markers now (shutdown, tests). */
    flushMarkers,
  }
}

export type DeliveryBatchStore = ReturnType<typeof createDeliveryBatchStore>
