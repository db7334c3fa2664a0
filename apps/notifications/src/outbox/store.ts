/**
 * The local outbox: rendered messages stored in libSQL instead of being sent — the embedded default for
 * email when no `RESEND_API_KEY` is set (and for SMS / push without their providers). Keyed by the
 * idempotency key, so a retry never stores a message twice.
 */
import { desc, eq } from 'drizzle-orm'
import type { Transport } from '../channels/types.ts'
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

/** A transport that stores the message in the outbox (idempotent on the key). */
export const createOutboxTransport = (db: Db, channel: ChannelName): Transport => ({
  channel,
  provider: 'outbox',
  idempotent: true,
  async send({ address, message, idempotencyKey }) {
    if (address.channel !== channel || message.channel !== channel)
      throw new TransportError(
        'permanent',
        'CHANNEL_MISMATCH',
        `this outbox transport stores ${channel} only`,
      )
    const subject =
      message.channel === 'email' ? message.subject : message.channel === 'push' ? message.title : null
    const body = message.channel === 'push' ? message.body : message.text
    const html = message.channel === 'email' ? message.html : null
    const args = [
      Bun.randomUUIDv7(),
      idempotencyKey,
      channel,
      recipientKey(address),
      subject,
      body,
      html,
      Date.now(),
    ]
    const inserted = await retryWhileBusy(() => db.$client.execute({ sql: INSERT, args }))
    // A retry under the same key: the message stored the first time.
    const [stored] = inserted.rows.length
      ? inserted.rows
      : (await db.$client.execute({ sql: SELECT_BY_KEY, args: [idempotencyKey] })).rows
    if (!stored)
      throw new TransportError('transient', 'OUTBOX_WRITE_LOST', 'the outbox row was not found after insert')
    return { providerMessageId: String(stored.id) }
  },
})
