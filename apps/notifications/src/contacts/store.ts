/**
 * The recipient directory: userId → email, phone, locale, timezone. `auth.*` events carry only a userId;
 * this table, fed by `user.registered` and by `notification.requested` recipients, supplies the address.
 */
import { eq, sql } from 'drizzle-orm'
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

export interface ContactStore {
  get(userId: string): Promise<ContactRow | undefined>
  /** Inserts or updates; fields not given keep their stored value. Resolves to the stored row. */
  upsert(contact: ContactInput): Promise<ContactRow>
}

export const createContactStore = (db: Db): ContactStore => ({
  async get(userId) {
    const [row] = await db.select().from(contacts).where(eq(contacts.userId, userId))
    return row
  },
  async upsert(contact) {
    const row = {
      userId: contact.userId,
      email: contact.email ?? null,
      phone: contact.phone ?? null,
      locale: contact.locale ?? null,
      timezone: contact.timezone ?? null,
      updatedAt: Date.now(),
    }
    const [stored] = await retryWhileBusy(() =>
      db
        .insert(contacts)
        .values(row)
        .onConflictDoUpdate({
          target: contacts.userId,
          set: {
            email: sql`coalesce(excluded.email, ${contacts.email})`,
            phone: sql`coalesce(excluded.phone, ${contacts.phone})`,
            locale: sql`coalesce(excluded.locale, ${contacts.locale})`,
            timezone: sql`coalesce(excluded.timezone, ${contacts.timezone})`,
            updatedAt: row.updatedAt,
          },
        })
        .returning(),
    )
    if (!stored) throw new Error(`contact ${contact.userId} vanished after upsert`)
    return stored
  },
})
