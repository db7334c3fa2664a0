/**
 * The delivery log in libSQL. Every change is one conditional statement, so two workers (or two copies of
 * one event) can never both hold a delivery: `claim` moves `queued` (or a `sending` whose lease expired)
 * to `sending` and only one caller gets the row back.
 */
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { type AttemptRow, type DeliveryRow, deliveries, deliveryAttempts } from '../db/schema.ts'
import type { DeliveryStatus } from './model.ts'

export type NewDelivery = Omit<
  DeliveryRow,
  | 'attempts'
  | 'leaseUntil'
  | 'provider'
  | 'providerMessageId'
  | 'publishedStatus'
  | 'createdAt'
  | 'updatedAt'
  | 'sentAt'
  | 'deliveredAt'
  | 'errorCode'
  | 'errorMessage'
  | 'keyGeneration'
  | 'failureKind'
> & {
  readonly errorCode?: string | null
  readonly errorMessage?: string | null
  readonly failureKind?: string | null
  readonly traceparent?: string | null
}

export interface Failure {
  readonly code: string
  readonly message: string
  /** Whether the provider refused for good (no message exists) or the outcome may pass with time. */
  readonly kind?: 'transient' | 'permanent'
}

export interface DeliveryPageOptions {
  readonly userId?: string | undefined
  readonly status?: DeliveryStatus | undefined
  readonly cursor?: string | undefined
  readonly limit?: number | undefined
}

const encodeCursor = (row: DeliveryRow) => Buffer.from(`${row.createdAt}|${row.id}`).toString('base64url')
const decodeCursor = (cursor: string): [number, string] | undefined => {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|')
  const ms = Number(at)
  return id && Number.isFinite(ms) ? [ms, id] : undefined
}
const clip = (text: string) => (text.length > 2000 ? `${text.slice(0, 1997)}...` : text)

/** Creates the store over a drizzle database. */
export const createDeliveryStore = (db: Db) => {
  const write = <T>(fn: () => Promise<T>) => retryWhileBusy(fn)
  const get = async (id: string) => (await db.select().from(deliveries).where(eq(deliveries.id, id)))[0]

  const finishAttempt = (id: string, attempt: number, outcome: string, failure?: Failure) =>
    write(() =>
      db
        .update(deliveryAttempts)
        .set({
          finishedAt: Date.now(),
          outcome,
          errorCode: failure?.code ?? null,
          errorMessage: failure ? clip(failure.message) : null,
        })
        .where(and(eq(deliveryAttempts.deliveryId, id), eq(deliveryAttempts.attempt, attempt))),
    )

  return {
    get,

    /** Creates the delivery unless it exists (the unique key decides); returns the stored row. */
    async ensure(delivery: NewDelivery): Promise<DeliveryRow> {
      const now = Date.now()
      await write(() =>
        db
          .insert(deliveries)
          .values({ ...delivery, createdAt: now, updatedAt: now })
          .onConflictDoNothing(),
      )
      const [row] = await db
        .select()
        .from(deliveries)
        .where(
          and(
            eq(deliveries.eventId, delivery.eventId),
            eq(deliveries.channel, delivery.channel),
            eq(deliveries.recipient, delivery.recipient),
          ),
        )
      if (!row) throw new Error(`delivery ${delivery.id} vanished after insert`)
      return row
    },

    /**
     * Takes the delivery for one attempt until `leaseUntil`; resolves to the attempt number, or undefined
     * when someone else holds it or it is settled.
     */
    async claim(id: string, leaseUntil: number): Promise<number | undefined> {
      const now = Date.now()
      const [row] = await write(() =>
        db
          .update(deliveries)
          .set({ status: 'sending', attempts: sql`${deliveries.attempts} + 1`, leaseUntil, updatedAt: now })
          .where(
            and(
              eq(deliveries.id, id),
              or(
                eq(deliveries.status, 'queued'),
                and(eq(deliveries.status, 'sending'), lt(deliveries.leaseUntil, now)),
              ),
            ),
          )
          .returning({ attempts: deliveries.attempts }),
      )
      if (!row) return undefined
      await write(() =>
        db
          .insert(deliveryAttempts)
          .values({ deliveryId: id, attempt: row.attempts, startedAt: now, outcome: 'started' })
          .onConflictDoNothing(),
      )
      return row.attempts
    },

    /** An attempt that ended without a record (its worker died mid-send): outcome `abandoned`. */
    async markAbandoned(id: string, attempt: number) {
      await finishAttempt(id, attempt, 'abandoned', {
        code: 'LEASE_EXPIRED',
        message: 'the worker stopped before recording an answer (crash or stall)',
      })
    },

    /** The provider accepted attempt `attempt`. */
    async markSent(id: string, attempt: number, provider: string, providerMessageId: string) {
      const now = Date.now()
      await write(() =>
        db
          .update(deliveries)
          .set({
            status: 'sent',
            provider,
            providerMessageId,
            sentAt: now,
            updatedAt: now,
            leaseUntil: 0,
            errorCode: null,
            errorMessage: null,
          })
          .where(and(eq(deliveries.id, id), eq(deliveries.status, 'sending'))),
      )
      await finishAttempt(id, attempt, 'sent')
    },

    /** A transient failure: back to `queued` (the event is retried later), the error kept. */
    async markRetry(id: string, attempt: number, provider: string, failure: Failure) {
      await write(() =>
        db
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
          .where(and(eq(deliveries.id, id), eq(deliveries.status, 'sending'))),
      )
      await finishAttempt(id, attempt, 'retry', failure)
    },

    /** Settles a delivery as `failed` or `dead` (with the attempt, when one was made). */
    async markFinal(
      id: string,
      status: 'failed' | 'dead',
      failure: Failure,
      attempt?: { number: number; outcome: string; provider?: string },
    ) {
      await write(() =>
        db
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
          .where(and(eq(deliveries.id, id), inArray(deliveries.status, ['queued', 'sending']))),
      )
      if (attempt) await finishAttempt(id, attempt.number, attempt.outcome, failure)
    },

    /**
     * A replayed dead letter gets another chance: `dead` → `queued` (with content now, if it had none), under a
     * new idempotency key generation only when the provider had refused it for good.
     */
    async revive(id: string, content: string | null) {
      await write(() =>
        db
          .update(deliveries)
          .set({
            status: 'queued',
            content: sql`coalesce(${deliveries.content}, ${content})`,
            keyGeneration: sql`${deliveries.keyGeneration} + (case when ${deliveries.failureKind} = 'permanent' then 1 else 0 end)`,
            updatedAt: Date.now(),
          })
          .where(and(eq(deliveries.id, id), eq(deliveries.status, 'dead'))),
      )
    },

    /** Remembers that the event for `status` has been published (so a redelivery does not publish again). */
    async markPublished(id: string, status: string) {
      await write(() => db.update(deliveries).set({ publishedStatus: status }).where(eq(deliveries.id, id)))
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
    async list({ userId, status, cursor, limit = 20 }: DeliveryPageOptions) {
      const after = cursor ? decodeCursor(cursor) : undefined
      const rows = await db
        .select()
        .from(deliveries)
        .where(
          and(
            userId ? eq(deliveries.userId, userId) : undefined,
            status ? eq(deliveries.status, status) : undefined,
            after
              ? or(
                  lt(deliveries.createdAt, after[0]),
                  and(eq(deliveries.createdAt, after[0]), lt(deliveries.id, after[1])),
                )
              : undefined,
          ),
        )
        .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
        .limit(limit + 1)
      const items = rows.slice(0, limit)
      const last = items.at(-1)
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null }
    },

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
