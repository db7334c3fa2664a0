/**
 * The recipient directory: userId → email, phone, locale, timezone, quiet hours. `auth.*` events carry only a
 * userId; this table, fed by `user.registered` and by `notification.requested` recipients, supplies the address.
 * The time zone and quiet hours (the API, `user.registered`, `user.profile.updated`) each carry the time of what
 * set them, so events applied out of order keep the newest.
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { type ContactRow, contacts } from '../db/schema.ts'

export interface ContactInput {
  readonly userId: string
  readonly email?: string | undefined
  readonly phone?: string | undefined
  readonly locale?: string | undefined
  readonly timezone?: string | undefined
}

/** Per-recipient settings: time zone and quiet hours (`null` clears them). */
export interface ContactSettings {
  readonly timezone?: string | undefined
  readonly quietHours: { readonly start: string; readonly end: string } | null
}

/** Settings an event carries, stamped with its time (ms). A field left out keeps its value; `null` clears. */
export interface TimedSettings {
  readonly userId: string
  readonly at: number
  readonly timezone?: string | undefined
  readonly quietHours?: { readonly start: string; readonly end: string } | null | undefined
}

export interface ContactStore {
  get(userId: string): Promise<ContactRow | undefined>
  /** Sets the time zone (when given) and replaces the quiet hours; other fields keep their value. */
  setSettings(userId: string, settings: ContactSettings): Promise<ContactRow>
  /**
   * Sets each field the event carries only if the event is newer than what set that field last (an event, or
   * the API at its call time): a redelivered or late event changes nothing. Resolves to the stored row.
   */
  applySettings(settings: TimedSettings): Promise<ContactRow>
  /** Inserts or updates; fields not given keep their stored value. Resolves to the stored row. */
  upsert(contact: ContactInput): Promise<ContactRow>
}

// Every event with a recipient runs it: short SQL written once (drizzle would rebuild it per call).
const UPSERT = `INSERT INTO contacts (user_id, email, phone, locale, timezone, updated_at)
  VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET email = coalesce(excluded.email, contacts.email),
  phone = coalesce(excluded.phone, contacts.phone), locale = coalesce(excluded.locale, contacts.locale),
  timezone = coalesce(excluded.timezone, contacts.timezone), updated_at = excluded.updated_at
  RETURNING user_id, email, phone, locale, timezone, updated_at, quiet_start, quiet_end, timezone_at, quiet_at`

const SET_SETTINGS = `INSERT INTO contacts (user_id, timezone, timezone_at, quiet_start, quiet_end, quiet_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET timezone = coalesce(excluded.timezone, contacts.timezone),
  timezone_at = coalesce(excluded.timezone_at, contacts.timezone_at), quiet_start = excluded.quiet_start,
  quiet_end = excluded.quiet_end, quiet_at = excluded.quiet_at, updated_at = excluded.updated_at`

// A field is taken only when the write is newer than the field's stamp; a field the write leaves out has a null
// stamp, and \`null > x\` is never true, so it is kept.
const newer = (stamp: string) => `excluded.${stamp} > coalesce(contacts.${stamp}, -1)`
const taken = (column: string, stamp: string) =>
  `${column} = CASE WHEN ${newer(stamp)} THEN excluded.${column} ELSE contacts.${column} END`
const APPLY_SETTINGS = `INSERT INTO contacts (user_id, timezone, timezone_at, quiet_start, quiet_end, quiet_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET ${taken('timezone', 'timezone_at')}, ${taken('quiet_start', 'quiet_at')},
  ${taken('quiet_end', 'quiet_at')}, ${taken('timezone_at', 'timezone_at')}, ${taken('quiet_at', 'quiet_at')},
  updated_at = excluded.updated_at`

export const createContactStore = (db: Db): ContactStore => {
  const read = async (userId: string) => {
    const [row] = await db.select().from(contacts).where(eq(contacts.userId, userId))
    if (!row) throw new Error(`contact ${userId} vanished after its settings were written`)
    return row
  }
  return {
    async setSettings(userId, settings) {
      const now = Date.now()
      await retryWhileBusy(() =>
        db.$client.execute({
          sql: SET_SETTINGS,
          args: [
            userId,
            settings.timezone ?? null,
            settings.timezone === undefined ? null : now,
            settings.quietHours?.start ?? null,
            settings.quietHours?.end ?? null,
            now,
            now,
          ],
        }),
      )
      return read(userId)
    },
    async applySettings(settings) {
      const quiet = settings.quietHours
      await retryWhileBusy(() =>
        db.$client.execute({
          sql: APPLY_SETTINGS,
          args: [
            settings.userId,
            settings.timezone ?? null,
            settings.timezone === undefined ? null : settings.at,
            quiet?.start ?? null,
            quiet?.end ?? null,
            quiet === undefined ? null : settings.at,
            Date.now(),
          ],
        }),
      )
      return read(settings.userId)
    },
    async get(userId) {
      const [row] = await db.select().from(contacts).where(eq(contacts.userId, userId))
      return row
    },
    async upsert(contact) {
      const [raw] = (
        await retryWhileBusy(() =>
          db.$client.execute({
            sql: UPSERT,
            args: [
              contact.userId,
              contact.email ?? null,
              contact.phone ?? null,
              contact.locale ?? null,
              contact.timezone ?? null,
              Date.now(),
            ],
          }),
        )
      ).rows
      if (!raw) throw new Error(`contact ${contact.userId} vanished after upsert`)
      return {
        userId: String(raw.user_id),
        email: raw.email === null ? null : String(raw.email),
        phone: raw.phone === null ? null : String(raw.phone),
        locale: raw.locale === null ? null : String(raw.locale),
        timezone: raw.timezone === null ? null : String(raw.timezone),
        updatedAt: Number(raw.updated_at),
        quietStart: raw.quiet_start === null ? null : String(raw.quiet_start),
        quietEnd: raw.quiet_end === null ? null : String(raw.quiet_end),
        timezoneAt: raw.timezone_at === null ? null : Number(raw.timezone_at),
        quietAt: raw.quiet_at === null ? null : Number(raw.quiet_at),
      }
    },
  }
}
