/** Field schemas reused across event families. */
import { Type } from '@sinclair/typebox'

export const UserId = Type.String({ minLength: 1, maxLength: 200 })
// One part of an address: no white space (CR/LF would inject a header), control characters, NUL, surrogate
// code units (a lone one is not text; astral characters are refused with them) or addr-spec specials.
const EMAIL_PART = '[^\\s\\u0000-\\u001f\\u007f\\ud800-\\udfff@<>,;:"\\\\]+'
/** Plain addr-spec, nothing that could inject a header. */
export const Email = Type.String({ maxLength: 320, pattern: `^${EMAIL_PART}@${EMAIL_PART}\\.${EMAIL_PART}$` })
/** E.164. */
export const Phone = Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })
/** BCP 47 language tag, e.g. `en`, `fr-CA`. */
export const Locale = Type.String({ pattern: '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$', maxLength: 35 })
/** IANA zone name, e.g. `Europe/Paris`. */
export const TimeZone = Type.String({ pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+\\-]+)*$', maxLength: 64 })
export const Ip = Type.String({ maxLength: 45 })
export const UserAgent = Type.String({ maxLength: 1000 })
/** An ISO-8601 UTC time with an optional fraction (`2026-11-27T10:00:00.000Z`). */
export const ISO_TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$'

export const IsoTimestamp = Type.String({ pattern: ISO_TIMESTAMP_PATTERN })

/** A local time of day, `HH:MM` or `HH:MM:SS` (24-hour). */
const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$' })

/** Quiet hours in the user's time zone: non-critical notifications wait until `end`; may wrap past midnight. */
export const QuietHours = Type.Object(
  { start: LocalTime, end: LocalTime },
  { additionalProperties: false, description: 'local times in the user’s time zone (`timezone`)' },
)
