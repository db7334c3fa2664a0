/** Recipient settings schemas: time zone and quiet hours. */
import { t } from 'elysia'
import { LOCAL_TIME_PATTERN } from '../workflows/quiet-hours.ts'

const LocalTime = t.String({
  pattern: LOCAL_TIME_PATTERN,
  description: 'local time, HH:MM or HH:MM:SS (24-hour)',
})

const QuietHours = t.Object(
  { start: LocalTime, end: LocalTime },
  {
    additionalProperties: false,
    description:
      'non-critical messages wait until `end` (local time in `timezone`); the window may wrap past midnight',
  },
)

export const PutSettingsBody = t.Object(
  {
    timezone: t.Optional(
      t.String({
        pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+\\-]+)*$',
        maxLength: 64,
        description: 'IANA time zone, e.g. Europe/Paris (kept when absent)',
      }),
    ),
    quietHours: t.Union([QuietHours, t.Null()], { description: 'null: no quiet hours' }),
  },
  { additionalProperties: false },
)
export type PutSettingsBody = typeof PutSettingsBody.static

export const RecipientSettings = t.Object({
  userId: t.String(),
  timezone: t.Union([t.String(), t.Null()]),
  quietHours: t.Union([t.Object({ start: t.String(), end: t.String() }), t.Null()]),
})
export type RecipientSettings = typeof RecipientSettings.static
