/** `notification.*` events: requests to notify a user, and what became of each delivery. */
import { Type } from '@sinclair/typebox'
import { PUBLIC_HTTPS_URL_FORMAT, PUBLIC_HTTPS_URL_PATTERN } from '../urls.ts'
import { Email, ISO_TIMESTAMP_PATTERN, IsoTimestamp, Locale, Phone, TimeZone, UserId } from './common.ts'

export const Channel = Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('push')])

export const PushSubscription = Type.Object(
  {
    // The pattern is what the exported JSON Schema keeps; the format adds the private-host checks in TypeScript.
    endpoint: Type.String({
      pattern: PUBLIC_HTTPS_URL_PATTERN,
      format: PUBLIC_HTTPS_URL_FORMAT,
      maxLength: 2000,
      description: 'https URL of a public push service (no loopback, private, link-local or .internal host)',
    }),
    keys: Type.Object(
      { p256dh: Type.String({ maxLength: 200 }), auth: Type.String({ maxLength: 100 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)

export const NotificationRequested = Type.Object(
  {
    recipient: Type.Object(
      {
        userId: UserId,
        email: Type.Optional(Email),
        phone: Type.Optional(Phone),
        pushSubscriptions: Type.Optional(Type.Array(PushSubscription, { maxItems: 20 })),
        locale: Type.Optional(Locale),
        timezone: Type.Optional(TimeZone),
      },
      { additionalProperties: false },
    ),
    template: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }),
    channels: Type.Optional(Type.Array(Channel, { minItems: 1, maxItems: 3, uniqueItems: true })),
    category: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' })),
    critical: Type.Optional(Type.Boolean()),
    data: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
    sendAt: Type.Optional(
      Type.String({
        pattern: ISO_TIMESTAMP_PATTERN,
        description:
          'send at this time (UTC), at most 30 days after the event; a past time sends now. Not with delaySeconds',
      }),
    ),
    delaySeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 30 * 24 * 3600,
        description: 'send this long after the event occurred (at most 30 days). Not with sendAt',
      }),
    ),
    idempotencyKey: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._:-]{1,200}$',
        description:
          "the requester's key for this request: POST /v1/notifications/cancel names it (default: the event id)",
      }),
    ),
  },
  { additionalProperties: false },
)

const DeliveryRef = {
  notificationId: Type.String({ minLength: 1, maxLength: 200 }),
  userId: UserId,
  channel: Channel,
  template: Type.String({ maxLength: 64 }),
}

export const NotificationSent = Type.Object(
  {
    ...DeliveryRef,
    requestId: Type.String({ description: 'id of the event that asked for it' }),
    provider: Type.String({ maxLength: 64 }),
    providerMessageId: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
)

export const NotificationFailed = Type.Object(
  {
    ...DeliveryRef,
    requestId: Type.String(),
    attempts: Type.Integer({ minimum: 1 }),
    error: Type.Object({ code: Type.String(), message: Type.String({ maxLength: 2000 }) }),
  },
  { additionalProperties: false },
)

export const NotificationDelivered = Type.Object(
  { ...DeliveryRef, providerMessageId: Type.String({ maxLength: 300 }), at: IsoTimestamp },
  { additionalProperties: false },
)

export const NotificationBounced = Type.Object(
  {
    ...DeliveryRef,
    providerMessageId: Type.String({ maxLength: 300 }),
    at: IsoTimestamp,
    kind: Type.Union([Type.Literal('bounced'), Type.Literal('complained')]),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
)
