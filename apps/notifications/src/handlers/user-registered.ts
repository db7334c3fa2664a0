/** `user.registered` → the welcome email; the new user's addresses, time zone and quiet hours go into the directory. */
import type { Rule } from './rule.ts'
import { contactFrom, fromEnvelope } from './rule.ts'

export const userRegistered: Rule<'user.registered'> = {
  type: 'user.registered',
  contact: ({ payload }) => ({
    ...contactFrom(payload),
    ...(payload.quietHours ? { quietHours: payload.quietHours } : {}),
  }),
  request: (event) => ({
    ...fromEnvelope(event),
    template: 'welcome',
    recipient: { userId: event.payload.userId },
    channels: ['email'],
    data: event.payload.name === undefined ? {} : { name: event.payload.name },
  }),
}
