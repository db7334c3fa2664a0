/** `auth.refresh.reused` → a critical security alert: email, and SMS when a phone is known. Ignores opt-outs. */
import type { Rule } from './rule.ts'
import { emailToItsUser } from './rule.ts'

export const authRefreshReused: Rule<'auth.refresh.reused'> = {
  type: 'auth.refresh.reused',
  request: (event) => ({
    ...emailToItsUser(event, 'security-alert'),
    optionalChannels: ['sms'],
    critical: true,
    data: {
      at: event.occurredAt,
      ...(event.payload.ip === undefined ? {} : { ip: event.payload.ip }),
      ...(event.payload.userAgent === undefined ? {} : { userAgent: event.payload.userAgent }),
    },
  }),
}
