/** Schemas of the device routes. */
import { CursorPage } from '@flotilla/service-kit'
import { t } from 'elysia'

export const DeviceView = t.Object({
  id: t.String({ examples: ['ios-7f3a'] }),
  name: t.Optional(t.String()),
  userAgent: t.Optional(t.String()),
  ip: t.Optional(t.String()),
  firstSeenAt: t.String({ format: 'date-time' }),
  lastSeenAt: t.String({ format: 'date-time' }),
})
export type DeviceView = typeof DeviceView.static

export const DevicePage = CursorPage(DeviceView)
