/**
 * The local outbox: rendered messages stored in libSQL instead of being sent — the embedded default for
 * email when no `RESEND_API_KEY` is set (and for SMS / push without their providers). Keyed by the
 * idempotency key, so a retry never stores a message twice.
 */

import type { InStatement, ResultSet } from '@libsql/client'
import { desc, eq } from 'drizzle-orm'
import type { SendRequest, SendResult, Transport } from '../channels/types.ts'
import { recipientKey, TransportError } from '../channels/types.ts'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { newestFirstPage, type RowPosition } from '../db/page.ts'
import { type OutboxRow, outbox } from '../db/schema.ts'
import type { ChannelName } from '../templates/model.ts'

export interface OutboxPage {
  readonly items: OutboxRow[]
  /** Where the next page starts; null on the last page. */
  readonly next: RowPosition | null
}

export interface OutboxStore {
  list(options: {
    channel?: ChannelName
    recipient?: string
    after?: RowPosition
    limit?: number
  }): Promise<OutboxPage>
  count(): Promise<number>
}

/** Reads the outbox (newest first, cursor pagination). */
export const createOutboxStore = (db: Db): OutboxStore => ({
  list: ({ channel, recipient, after, limit = 50 }) =>
    newestFirstPage(
      (where, rows) =>
        db.select().from(outbox).where(where).orderBy(desc(outbox.createdAt), desc(outbox.id)).limit(rows),
      outbox,
      [
        channel ? eq(outbox.channel, channel) : undefined,
        recipient ? eq(outbox.recipient, recipient) : undefined,
      ],
      after,
      limit,
    ),
  async count() {
    return await db.$count(outbox)
  },
})

// Every send runs it: short SQL written once (drizzle would rebuild it per call).
const INSERT = `INSERT INTO outbox (id, idempotency_key, channel, recipient, subject, body, html, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`
const SELECT_BY_KEY = 'SELECT id FROM outbox WHERE idempotency_key = ?'

const mismatch = (channel: ChannelName) =>
  new TransportError('permanent', 'CHANNEL_MISMATCH', `this outbox transport stores ${channel} only`)

/** The `INSERT` values of one message (a new row id; the key decides whether it is stored). */
const valuesOf = ({ address, message, idempotencyKey }: SendRequest, channel: ChannelName) => {
  const subject =
    message.channel === 'email' ? message.subject : message.channel === 'push' ? message.title : null
  const body = message.channel === 'push' ? message.body : message.text
  const html = message.channel === 'email' ? message.html : null
  return [Bun.randomUUIDv7(), idempotencyKey, channel, recipientKey(address), subject, body, html, Date.now()]
}

const keysIn = (keys: readonly string[]) =>
  `SELECT id, idempotency_key FROM outbox WHERE idempotency_key IN (${keys.map(() => '?').join(', ')})`

/**
 * Stores many messages through `run` (statements run together, in one transaction): which keys were stored
 * before (a retry: usually none), then one insert; a key seen before keeps its first row.
 */
const storeBatch = async (
  channel: ChannelName,
  requests: readonly SendRequest[],
  run: (statements: InStatement[]) => Promise<ResultSet[]>,
): Promise<(SendResult | TransportError)[]> => {
  const valid = requests.filter((r) => r.address.channel === channel && r.message.channel === channel)
  const unique = [...new Map(valid.map((r) => [r.idempotencyKey, r])).values()]
  const ids = new Map<string, string>()
  for (let i = 0; i < unique.length; i += 500) {
    const part = unique.slice(i, i + 500)
    const keys = part.map((r) => r.idempotencyKey)
    const values = part.map((r) => valuesOf(r, channel))
    const [before, inserted] = await run([
      { sql: keysIn(keys), args: keys },
      {
        sql: `INSERT INTO outbox (id, idempotency_key, channel, recipient, subject, body, html, created_at)
          VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
          ON CONFLICT (idempotency_key) DO NOTHING`,
        args: values.flat(),
      },
    ])
    for (const raw of before?.rows ?? []) ids.set(String(raw.idempotency_key), String(raw.id))
    const fresh = values.filter(([, key]) => !ids.has(String(key)))
    if (inserted?.rowsAffected === fresh.length) {
      for (const [id, key] of fresh) ids.set(String(key), String(id))
      continue
    }
    // Another process stored one meanwhile (PostgreSQL, read-committed): read every key as stored.
    const [stored] = await run([{ sql: keysIn(keys), args: keys }])
    for (const raw of stored?.rows ?? []) ids.set(String(raw.idempotency_key), String(raw.id))
  }
  return requests.map((r) => {
    if (r.address.channel !== channel || r.message.channel !== channel) return mismatch(channel)
    const id = ids.get(r.idempotencyKey)
    return id === undefined
      ? new TransportError('transient', 'OUTBOX_WRITE_LOST', 'the outbox row was not found after insert')
      : { providerMessageId: id }
  })
}

/** A transport that stores the message in the outbox (idempotent on the key). */
export const createOutboxTransport = (db: Db, channel: ChannelName): Transport => ({
  channel,
  provider: 'outbox',
  idempotent: true,
  async send(request) {
    const { address, message, idempotencyKey } = request
    if (address.channel !== channel || message.channel !== channel) throw mismatch(channel)
    const args = valuesOf(request, channel)
    const inserted = await retryWhileBusy(() => db.$client.execute({ sql: INSERT, args }))
    // A retry under the same key: the message stored the first time.
    const [stored] = inserted.rows.length
      ? inserted.rows
      : (await db.$client.execute({ sql: SELECT_BY_KEY, args: [idempotencyKey] })).rows
    if (!stored)
      throw new TransportError('transient', 'OUTBOX_WRITE_LOST', 'the outbox row was not found after insert')
    return { providerMessageId: String(stored.id) }
  },
  /** Every message in one transaction: one insert for all (a key seen before keeps its first row), one read. */
  sendBatch: (requests) =>
    storeBatch(channel, requests, (statements) =>
      retryWhileBusy(() => db.$client.batch(statements, 'write')),
    ),
  /** The same statements inside the caller's transaction (the batch path's claim and settle). */
  sendBatchWithin: (tx, requests) => storeBatch(channel, requests, (statements) => tx.batch(statements)),
})
