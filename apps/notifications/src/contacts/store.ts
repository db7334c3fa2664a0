/**
 * The recipient directory: userId → email, phone, locale, timezone. `auth.*` events carry only a userId;
 * this table, fed by `user.registered` and by `notification.requested` recipients, supplies the address.
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
  readonly quietHours?: { readonly start: string; readonly end: string } | undefined
}

/** Per-recipient settings: time zone and quiet hours (`null` clears them). */
export interface ContactSettings {
  readonly timezone?: string | undefined
  readonly quietHours: { readonly start: string; readonly end: string } | null
}

export interface ContactStore {
  get(userId: string): Promise<ContactRow | undefined>
  /** Sets the time zone (when given) and replaces the quiet hours; other fields keep their value. */
  setSettings(userId: string, settings: ContactSettings): Promise<ContactRow>
  /** Inserts or updates; fields not given keep their stored value. Resolves to the stored row. */
  upsert(contact: ContactInput): Promise<ContactRow>
}

// Every event with a recipient runs it: short SQL written once (drizzle would rebuild it per call).
const UPSERT = `INSERT INTO contacts (user_id, email, phone, locale, timezone, quiet_start, quiet_end, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET email = coalesce(excluded.email, contacts.email),
  phone = coalesce(excluded.phone, contacts.phone), locale = coalesce(excluded.locale, contacts.locale),
  timezone = coalesce(excluded.timezone, contacts.timezone),
  quiet_start = coalesce(excluded.quiet_start, contacts.quiet_start),
  quiet_end = coalesce(excluded.quiet_end, contacts.quiet_end), updated_at = excluded.updated_at
  RETURNING user_id, email, phone, locale, timezone, updated_at, quiet_start, quiet_end`

const SET_SETTINGS = `INSERT INTO contacts (user_id, timezone, quiet_start, quiet_end, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET timezone = coalesce(excluded.timezone, contacts.timezone),
  quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at`

export const createContactStore = (db: Db): ContactStore => ({
  async setSettings(userId, settings) {
    await retryWhileBusy(() =>
      db.$client.execute({
        sql: SET_SETTINGS,
        args: [
          userId,
          settings.timezone ?? null,
          settings.quietHours?.start ?? null,
          settings.quietHours?.end ?? null,
          Date.now(),
        ],
      }),
    )
    const [row] = await db.select().from(contacts).where(eq(contacts.userId, userId))
    if (!row) throw new Error(`contact ${userId} vanished after its settings were written`)
    return row
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
            contact.quietHours?.start ?? null,
            contact.quietHours?.end ?? null,
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
    }
  },
})
