/** `notification.requested` → the requested template, for the given recipient (who also feeds the directory). */
import type { Rule } from './rule.ts'
import { contactFrom, fromEnvelope } from './rule.ts'

export const notificationRequested: Rule<'notification.requested'> = {
  type: 'notification.requested',
  contact: ({ payload }) => contactFrom(payload.recipient),
  request: (event) => ({
    ...fromEnvelope(event),
    template: event.payload.template,
    recipient: event.payload.recipient,
    channels: event.payload.channels,
    category: event.payload.category,
    critical: event.payload.critical,
    data: event.payload.data ?? {},
    sendAt: event.payload.sendAt,
    delaySeconds: event.payload.delaySeconds,
    idempotencyKey: event.payload.idempotencyKey,
  }),
}
