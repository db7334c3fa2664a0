/** `auth.device.added` → the "new sign-in" email (address from the directory). */
import type { Rule } from './rule.ts'
import { emailToItsUser } from './rule.ts'

export const authDeviceAdded: Rule<'auth.device.added'> = {
  type: 'auth.device.added',
  request: (event) => ({
    ...emailToItsUser(event, 'new-sign-in'),
    data: {
      at: event.occurredAt,
      ...(event.payload.name === undefined ? {} : { deviceName: event.payload.name }),
      ...(event.payload.userAgent === undefined ? {} : { userAgent: event.payload.userAgent }),
      ...(event.payload.ip === undefined ? {} : { ip: event.payload.ip }),
    },
  }),
}
