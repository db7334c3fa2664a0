/**
 * `user.profile.updated` → the user's time zone and quiet hours in the directory, each only when the event is newer
 * than what set it last (its `occurredAt` against the stored stamp): a redelivered or late event changes nothing.
 * An unknown time zone can never be applied: the event is dead-lettered with the reason.
 */
import { NonRetryableError } from '@flotilla/streams'
import { isTimeZone } from '../workflows/quiet-hours.ts'
import type { Rule } from './rule.ts'
import { settingsFrom } from './rule.ts'

export const userProfileUpdated: Rule<'user.profile.updated'> = {
  type: 'user.profile.updated',
  settings: (event) => {
    const { timezone } = event.payload
    if (timezone !== undefined && !isTimeZone(timezone))
      throw new NonRetryableError(`unknown time zone "${timezone}"`, { code: 'INVALID_SETTINGS' })
    return settingsFrom(event, event.payload)
  },
  request: () => undefined,
}
