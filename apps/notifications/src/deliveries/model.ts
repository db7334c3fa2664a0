/** Delivery log schemas: one delivery per (event id, channel, recipient), with every attempt. */
import { Channel } from '@flotilla/contracts'
import { CursorPage, CursorQuery } from '@flotilla/service-kit'
import { t } from 'elysia'

/**
 * `queued` (waiting, or waiting to retry) → `sending` (a lease is held) → `sent` (the provider accepted it)
 * → `delivered` / `bounced` / `complained` (provider webhooks). `failed`: it could never be sent and is not
 * dead-lettered (no address, unknown outcome). `dead`: refused for good or out of retries (dead letter).
 * `suppressed`: the user opted out of this category on this channel. `throttled`: over its category's limit for
 * this user. `scheduled` / `held`: waiting for `dueAt` (a requested send time; the end of the recipient's quiet
 * hours), then `queued`. `cancelled`: cancelled through the API before it went out. `digested`: collected into a
 * digest (`digestId`, once the window closed), never sent on its own.
 */
export const DELIVERY_STATUSES = [
  'queued',
  'sending',
  'scheduled',
  'held',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'failed',
  'dead',
  'suppressed',
  'throttled',
  'cancelled',
  'digested',
] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/** Statuses that still lead to a send. */
const PENDING: ReadonlySet<DeliveryStatus> = new Set(['queued', 'sending', 'scheduled', 'held'])

/** Statuses after which nothing is sent any more (a redelivery of the event changes nothing). */
export const SETTLED_STATUSES: ReadonlySet<DeliveryStatus> = new Set(
  DELIVERY_STATUSES.filter((status) => !PENDING.has(status)),
)

const DeliveryStatusSchema = t.Union([
  t.Literal('queued'),
  t.Literal('sending'),
  t.Literal('scheduled'),
  t.Literal('held'),
  t.Literal('sent'),
  t.Literal('delivered'),
  t.Literal('bounced'),
  t.Literal('complained'),
  t.Literal('failed'),
  t.Literal('dead'),
  t.Literal('suppressed'),
  t.Literal('throttled'),
  t.Literal('cancelled'),
  t.Literal('digested'),
])

const AttemptView = t.Object({
  attempt: t.Integer(),
  startedAt: t.String({ format: 'date-time' }),
  finishedAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  outcome: t.String({
    description:
      'started (in flight), sent, retry, failover (the next provider took over), dead, abandoned (the worker died mid-send)',
  }),
  provider: t.Union([t.String(), t.Null()], { description: 'the provider this attempt went to' }),
  error: t.Union([t.Object({ code: t.String(), message: t.String() }), t.Null()]),
})

export const DeliveryView = t.Object({
  id: t.String(),
  requestId: t.String({ description: 'id of the event that asked for it' }),
  eventType: t.String(),
  userId: t.String(),
  tenantId: t.Union([t.String(), t.Null()]),
  channel: Channel,
  recipient: t.String(),
  template: t.String(),
  locale: t.String(),
  category: t.String(),
  critical: t.Boolean(),
  status: DeliveryStatusSchema,
  attempts: t.Integer(),
  provider: t.Union([t.String(), t.Null()], { description: 'the provider that sent it (or last tried)' }),
  dueAt: t.Union([t.String({ format: 'date-time' }), t.Null()], {
    description: 'when a scheduled, held or digest-collected delivery is due',
  }),
  idempotencyKey: t.Union([t.String(), t.Null()], {
    description: "the request's idempotency key (its event id when it had none): what a cancel names",
  }),
  digestId: t.Union([t.String(), t.Null()], {
    description: 'the digest delivery this one was collected into (set when its window closed)',
  }),
  failedOver: t.Boolean({
    description: "sent by a provider other than the channel's first (the attempt log says why)",
  }),
  providerMessageId: t.Union([t.String(), t.Null()]),
  error: t.Union([t.Object({ code: t.String(), message: t.String() }), t.Null()]),
  createdAt: t.String({ format: 'date-time' }),
  updatedAt: t.String({ format: 'date-time' }),
  sentAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  deliveredAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
})
export type DeliveryView = typeof DeliveryView.static

export const DeliveryDetail = t.Composite([DeliveryView, t.Object({ attemptLog: t.Array(AttemptView) })])
export type DeliveryDetail = typeof DeliveryDetail.static

export const DeliveryPage = CursorPage(DeliveryView)

export const DeliveryQuery = t.Object({
  userId: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  status: t.Optional(DeliveryStatusSchema),
  cursor: t.Optional(CursorQuery),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20 })),
})

export const CancelBody = t.Object(
  {
    idempotencyKey: t.String({
      pattern: '^[A-Za-z0-9._:-]{1,200}$',
      description: "the request's idempotencyKey, or its event id when it had none",
    }),
  },
  { additionalProperties: false },
)

export const CancelResult = t.Object({
  idempotencyKey: t.String(),
  cancelled: t.Integer({ description: 'deliveries this call cancelled' }),
  deliveries: t.Array(DeliveryView, { description: 'every delivery of the request, as it is now' }),
})
