/**
 * `user.registered` → the welcome email; the new user's addresses go into the directory, and their time zone and
 * quiet hours too unless a newer setting is there already (a `user.profile.updated` handled first, the API).
 */
import type { Rule } from './rule.ts'
import { contactFrom, fromEnvelope, settingsFrom } from './rule.ts'

export const userRegistered: Rule<'user.registered'> = {
  type: 'user.registered',
  contact: ({ payload }) => ({ ...contactFrom(payload), timezone: undefined }),
  settings: (event) => settingsFrom(event, event.payload),
  request: (event) => ({
    ...fromEnvelope(event),
    template: 'welcome',
    recipient: { userId: event.payload.userId },
    channels: ['email'],
    data: event.payload.name === undefined ? {} : { name: event.payload.name },
  }),
}
