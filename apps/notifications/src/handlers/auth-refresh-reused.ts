/** `auth.refresh.reused` → a critical security alert: email, and SMS when a phone is known. Ignores opt-outs. */
import type { Rule } from './rule.ts'
import { fromEnvelope } from './rule.ts'

export const authRefreshReused: Rule<'auth.refresh.reused'> = {
  type: 'auth.refresh.reused',
  request: (event) => ({
    ...fromEnvelope(event),
    template: 'security-alert',
    recipient: { userId: event.payload.userId },
    channels: ['email'],
    optionalChannels: ['sms'],
    critical: true,
    data: {
      at: event.occurredAt,
      ...(event.payload.ip === undefined ? {} : { ip: event.payload.ip }),
      ...(event.payload.userAgent === undefined ? {} : { userAgent: event.payload.userAgent }),
    },
  }),
}
