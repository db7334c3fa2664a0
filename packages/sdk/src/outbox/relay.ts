/**
 * The outbox relay: moves committed outbox rows to the stream in order and marks them sent, in one short
 * transaction per batch. A crash before the commit leaves the rows pending, so they are published again
 * with the same envelope ids (at-least-once; consumers deduplicate on the id).
 */
import { type AnyEvent, decodeEvent } from '@flotilla/contracts'
import type { Publisher } from '@flotilla/streams'
import { and, asc, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import type { Sql } from 'postgres'
import { flotillaOutbox, OUTBOX_CHANNEL } from './schema.ts'

/** Callbacks for metrics, logs and fault tests. */
export interface OutboxRelayHooks {
  /** After the batch reached the stream, before its rows are marked sent (the crash window). */
  afterPublish?(events: readonly AnyEvent[], streamIds: readonly string[]): void | Promise<void>
  /** After a batch was committed as sent. */
  onRelayed?(count: number): void
  /** A row broke the contract: it is marked failed and skipped, so it never blocks the rows after it. */
  onRowFailed?(eventId: string, message: string): void
  /** A batch failed (Redis down, database error); it is retried after a backoff. */
  onError?(error: unknown): void
  /** Sent rows older than the retention were deleted. */
  onPruned?(count: number): void
}

export interface OutboxRelayOptions {
  /** A postgres-js client whose `search_path` starts with the outbox's schema; one connection is kept for LISTEN. */
  readonly sql: Sql
  /** Where events go; `publishBatch` keeps the order of a batch. */
  readonly publisher: Pick<Publisher, 'publishBatch'>
  /** @defaultValue 100 */
  readonly batchSize?: number
  /** The fallback when no notification arrives (or LISTEN is off). @defaultValue 1000 */
  readonly pollIntervalMs?: number
  /** Wake on the insert trigger's NOTIFY. @defaultValue true */
  readonly listen?: boolean
  /**
   * `strict`: one relay at a time holds a transaction-scoped advisory lock, so the stream sees rows in
   * outbox order even with several instances running (the others stand by). `parallel`: every instance
   * takes its own rows (`FOR UPDATE SKIP LOCKED`), faster, but batches of different instances may interleave.
   * @defaultValue 'strict'
   */
  readonly ordering?: 'strict' | 'parallel'
  /** Sent rows are deleted this long after they were sent. @defaultValue 7 days */
  readonly retentionMs?: number
  /** @defaultValue 60_000 */
  readonly pruneIntervalMs?: number
  /** Backoff ceiling after failed batches. @defaultValue 5000 */
  readonly maxBackoffMs?: number
  readonly hooks?: OutboxRelayHooks
}

export interface OutboxRelayStatus {
  readonly running: boolean
  readonly relayed: number
  readonly consecutiveFailures: number
  readonly lastError?: string
}

export interface OutboxStats {
  /** Rows still to send. */
  readonly pending: number
  /** Rows that break the contract and will never be sent (they need a person). */
  readonly failed: number
  /** Age of the oldest pending row: alert when it grows (a relay is down or Redis refuses). Null when none. */
  readonly oldestPendingMs: number | null
}

export interface OutboxRelay {
  /** Subscribes to notifications and starts the loop; resolves once it runs. */
  start(): Promise<void>
  /** Publishes one batch now; resolves to the number of rows it took (sent or failed). */
  relayOnce(): Promise<number>
  /** Deletes sent rows past the retention; resolves to how many. */
  prune(): Promise<number>
  /** The backlog, for health checks and metrics. */
  stats(): Promise<OutboxStats>
  status(): OutboxRelayStatus
  /** Stops after the batch in flight. Safe to call twice. */
  close(): Promise<void>
}

const PRUNE_CHUNK = 1000

/** Creates a relay for the outbox in the connection's schema. */
export const createOutboxRelay = (options: OutboxRelayOptions): OutboxRelay => {
  const {
    publisher,
    batchSize = 100,
    pollIntervalMs = 1000,
    listen = true,
    ordering = 'strict',
    retentionMs = 7 * 24 * 3600 * 1000,
    pruneIntervalMs = 60_000,
    maxBackoffMs = 5000,
    hooks = {},
  } = options
  const db = drizzle({ client: options.sql })
  const pending = and(isNull(flotillaOutbox.sentAt), isNull(flotillaOutbox.failedAt))

  let relayed = 0
  let consecutiveFailures = 0
  let lastError: string | undefined

  const relayBatch = (claimed: number[]) =>
    db.transaction(async (tx) => {
      if (ordering === 'strict') {
        // Keyed on the schema, so outboxes in other schemas of the same database do not wait on each other.
        const [lock] = await tx.execute<{ locked: boolean }>(
          sql`select pg_try_advisory_xact_lock(hashtext(current_schema() || '.flotilla_outbox')) as locked`,
        )
        if (!lock?.locked) return 0
      }
      const rows = await tx
        .select({ id: flotillaOutbox.id, eventId: flotillaOutbox.eventId, event: flotillaOutbox.event })
        .from(flotillaOutbox)
        .where(pending)
        .orderBy(asc(flotillaOutbox.id))
        .limit(batchSize)
        .for('update', { skipLocked: true })
      if (rows.length === 0) return 0

      const events: AnyEvent[] = []
      const sendable: number[] = []
      for (const row of rows) {
        const decoded = decodeEvent(row.event)
        if (decoded.ok) {
          events.push(decoded.event)
          sendable.push(row.id)
          continue
        }
        const message = decoded.error.problems.map((p) => `${p.path} ${p.message}`).join('; ')
        await tx
          .update(flotillaOutbox)
          .set({ failedAt: sql`now()`, lastError: message.slice(0, 2000) })
          .where(eq(flotillaOutbox.id, row.id))
        hooks.onRowFailed?.(row.eventId, message)
      }
      claimed.push(...sendable)
      if (events.length > 0) {
        const streamIds = await publisher.publishBatch(events)
        await hooks.afterPublish?.(events, streamIds)
        await tx
          .update(flotillaOutbox)
          .set({ sentAt: sql`now()` })
          .where(inArray(flotillaOutbox.id, sendable))
      }
      return rows.length
    })

  const relayOnce = async (): Promise<number> => {
    const claimed: number[] = []
    try {
      const count = await relayBatch(claimed)
      consecutiveFailures = 0
      if (count > 0) {
        relayed += count
        hooks.onRelayed?.(count)
      }
      return count
    } catch (error) {
      consecutiveFailures += 1
      lastError = error instanceof Error ? error.message : String(error)
      // Best effort, outside the rolled-back transaction: tell operators which rows keep failing.
      if (claimed.length > 0) {
        await db
          .update(flotillaOutbox)
          .set({ attempts: sql`${flotillaOutbox.attempts} + 1`, lastError: lastError.slice(0, 2000) })
          .where(inArray(flotillaOutbox.id, claimed))
          .catch(() => {})
      }
      throw error
    }
  }

  const prune = async (): Promise<number> => {
    let total = 0
    for (;;) {
      const expired = db
        .select({ id: flotillaOutbox.id })
        .from(flotillaOutbox)
        .where(
          and(
            isNotNull(flotillaOutbox.sentAt),
            lt(flotillaOutbox.sentAt, sql`now() - ${retentionMs} * interval '1 millisecond'`),
          ),
        )
        .limit(PRUNE_CHUNK)
      const deleted = await db
        .delete(flotillaOutbox)
        .where(inArray(flotillaOutbox.id, expired))
        .returning({ id: flotillaOutbox.id })
      total += deleted.length
      if (deleted.length < PRUNE_CHUNK) break
    }
    if (total > 0) hooks.onPruned?.(total)
    return total
  }

  const stats = async (): Promise<OutboxStats> => {
    const [row] = await db
      .select({
        pending: sql<number>`count(*) filter (where ${pending})::int`,
        failed: sql<number>`count(*) filter (where ${flotillaOutbox.failedAt} is not null)::int`,
        // Measured by the database clock, like created_at itself.
        oldestPendingMs: sql<
          number | null
        >`(extract(epoch from now() - min(${flotillaOutbox.createdAt}) filter (where ${pending})) * 1000)::float8`,
      })
      .from(flotillaOutbox)
    return {
      pending: row?.pending ?? 0,
      failed: row?.failed ?? 0,
      oldestPendingMs:
        row?.oldestPendingMs === null || row?.oldestPendingMs === undefined
          ? null
          : Math.round(row.oldestPendingMs),
    }
  }

  // The loop: relay until a batch comes back short, then sleep until a notification, the poll interval or close.
  let running = false
  let closing = false
  let woken = false
  let wake: (() => void) | undefined
  let loop: Promise<void> | undefined
  let unlisten: (() => Promise<void>) | undefined
  let closed: Promise<void> | undefined

  const sleep = (ms: number, interruptible: boolean) =>
    new Promise<void>((resolve) => {
      if (closing || (interruptible && woken)) return resolve()
      const done = () => {
        clearTimeout(timer)
        wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      wake = () => {
        if (closing || interruptible) done()
      }
    })

  const run = async () => {
    let lastPrune = 0
    while (!closing) {
      woken = false
      try {
        const count = await relayOnce()
        if (count >= batchSize) continue
        if (Date.now() - lastPrune >= pruneIntervalMs) {
          lastPrune = Date.now()
          await prune()
        }
      } catch (error) {
        hooks.onError?.(error)
        const ceiling = Math.min(maxBackoffMs, 100 * 2 ** Math.min(consecutiveFailures, 10))
        // Full jitter; notifications do not shorten a backoff (Redis or the database is in trouble).
        await sleep(Math.random() * ceiling, false)
        continue
      }
      await sleep(pollIntervalMs, true)
    }
  }

  return {
    async start() {
      if (running || closing) return
      running = true
      if (listen) {
        try {
          const [{ schema }] = await options.sql<[{ schema: string }]>`select current_schema() as schema`
          const meta = await options.sql.listen(OUTBOX_CHANNEL, (payload) => {
            if (payload !== schema) return
            woken = true
            wake?.()
          })
          unlisten = () => meta.unlisten()
        } catch (error) {
          // No LISTEN (a transaction-mode pooler in front, say): polling alone still delivers everything.
          hooks.onError?.(error)
        }
      }
      loop = run()
    },
    relayOnce,
    prune,
    stats,
    status: () => ({
      running: running && !closing,
      relayed,
      consecutiveFailures,
      ...(lastError === undefined ? {} : { lastError }),
    }),
    close() {
      closed ??= (async () => {
        closing = true
        wake?.()
        await loop?.catch(() => {})
        await unlisten?.().catch(() => {})
        running = false
      })()
      return closed
    },
  }
}
