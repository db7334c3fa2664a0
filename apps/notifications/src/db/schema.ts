/** drizzle table definitions matching `migrations.ts` (the SQL there is the source of truth for DDL). */
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const deliveries = sqliteTable('deliveries', {
  id: text('id').primaryKey(),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  channel: text('channel').notNull(),
  /** The unique part of the address: an email, a phone number, a push endpoint, or `user:<id>` when none. */
  recipient: text('recipient').notNull(),
  /** The full address as JSON (a push subscription carries keys). */
  address: text('address'),
  userId: text('user_id').notNull(),
  tenantId: text('tenant_id'),
  correlationId: text('correlation_id'),
  template: text('template').notNull(),
  locale: text('locale').notNull(),
  category: text('category').notNull(),
  critical: integer('critical', { mode: 'boolean' }).notNull().default(false),
  /** The rendered message as JSON, frozen at creation so every retry sends the same bytes. */
  content: text('content'),
  status: text('status').notNull(),
  attempts: integer('attempts').notNull().default(0),
  leaseUntil: integer('lease_until').notNull().default(0),
  provider: text('provider'),
  providerMessageId: text('provider_message_id'),
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  /** The status whose event (`notification.sent` / `.failed`) has been published. */
  publishedStatus: text('published_status'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  sentAt: integer('sent_at'),
  deliveredAt: integer('delivered_at'),
  /**
   * Bumped when a replay revives a delivery the provider refused for good (no message exists): the
   * provider keeps the refusal under the old key, so the new attempt needs a new one. Never bumped after
   * a transient failure, where the provider may hold the message under the old key.
   */
  keyGeneration: integer('key_generation').notNull().default(0),
  /** `transient` or `permanent`: what the last failure was. */
  failureKind: text('failure_kind'),
  /** W3C trace context of the triggering event (its trace continues into `notification.*`). */
  traceparent: text('traceparent'),
  /** Sent by a provider other than the channel's first (failover). */
  failedOver: integer('failed_over', { mode: 'boolean' }).notNull().default(false),
  /** When a scheduled, held or digest-collected delivery is due; set: the due-time poller drives it, not the stream. */
  dueAt: integer('due_at'),
  /** The request's idempotency key (its own, else the event id): what `POST /v1/notifications/cancel` names. */
  requestKey: text('request_key'),
  /** The digest group (template, channel, recipient) a collected delivery waits in. */
  digestKey: text('digest_key'),
  /** The digest delivery a collected one went into. */
  digestId: text('digest_id'),
  /** The template data as JSON (kept for collected deliveries: the digest renders them all). */
  data: text('data'),
})
export type DeliveryRow = typeof deliveries.$inferSelect

export const deliveryAttempts = sqliteTable(
  'delivery_attempts',
  {
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    outcome: text('outcome').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The provider this attempt went to. */
    provider: text('provider'),
  },
  (table) => [primaryKey({ columns: [table.deliveryId, table.attempt] })],
)
export type AttemptRow = typeof deliveryAttempts.$inferSelect

export const contacts = sqliteTable('contacts', {
  userId: text('user_id').primaryKey(),
  email: text('email'),
  phone: text('phone'),
  locale: text('locale'),
  timezone: text('timezone'),
  updatedAt: integer('updated_at').notNull(),
  /** Quiet hours, local `HH:MM[:SS]` in `timezone`: non-critical messages wait for their end. */
  quietStart: text('quiet_start'),
  quietEnd: text('quiet_end'),
  /** When the time zone / the quiet hours were set (the event's time, or the API call's): later writes only. */
  timezoneAt: integer('timezone_at'),
  quietAt: integer('quiet_at'),
})
export type ContactRow = typeof contacts.$inferSelect

export const preferences = sqliteTable(
  'preferences',
  {
    userId: text('user_id').notNull(),
    category: text('category').notNull(),
    channel: text('channel').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.category, table.channel] })],
)

export const outbox = sqliteTable('outbox', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull(),
  channel: text('channel').notNull(),
  recipient: text('recipient').notNull(),
  subject: text('subject'),
  body: text('body').notNull(),
  html: text('html'),
  createdAt: integer('created_at').notNull(),
})
export type OutboxRow = typeof outbox.$inferSelect

export const webhookReceipts = sqliteTable('webhook_receipts', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: integer('received_at').notNull(),
})

/** A cancelled request (by its idempotency key): a delivery of it recorded later is recorded `cancelled`. */
export const cancelledRequests = sqliteTable('cancelled_requests', {
  requestKey: text('request_key').primaryKey(),
  cancelledAt: integer('cancelled_at').notNull(),
})
