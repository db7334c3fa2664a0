/**
 * The directory writes of a batch of events: every contact the events carry, in one statement. The same upsert
 * as `ContactStore.upsert` (a field not given keeps its stored value), for many users at once; two inputs for one
 * user are merged first, in order, as two upserts one after the other would leave the row (PostgreSQL refuses to
 * update one row twice in a statement).
 */
import type { InValue } from '@libsql/client'
import type { ContactInput } from '../contacts/store.ts'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import type { ContactRow } from '../db/schema.ts'

const COLUMNS = 'user_id, email, phone, locale, timezone, updated_at'
// Settings (quiet hours, and the time zone an event stamps) are not written here: they go through
// `ContactStore.applySettings`, which keeps the newest by event time.
const RETURNED = `${COLUMNS}, quiet_start, quiet_end, timezone_at, quiet_at`
const CONFLICT = `ON CONFLICT (user_id) DO UPDATE SET email = coalesce(excluded.email, contacts.email),
  phone = coalesce(excluded.phone, contacts.phone), locale = coalesce(excluded.locale, contacts.locale),
  timezone = coalesce(excluded.timezone, contacts.timezone), updated_at = excluded.updated_at
  RETURNING json_object(${RETURNED.split(', ')
    .map((c) => `'${c}', ${c}`)
    .join(', ')}) AS row`

const text = (value: unknown) => (value === null || value === undefined ? null : String(value))

/** Merges inputs per user, later given fields over earlier ones. */
const merged = (inputs: readonly ContactInput[]): ContactInput[] => {
  const byUser = new Map<string, ContactInput>()
  for (const input of inputs) {
    const before = byUser.get(input.userId)
    byUser.set(
      input.userId,
      before
        ? {
            userId: input.userId,
            email: input.email ?? before.email,
            phone: input.phone ?? before.phone,
            locale: input.locale ?? before.locale,
            timezone: input.timezone ?? before.timezone,
          }
        : input,
    )
  }
  return [...byUser.values()]
}

/** Upserts every contact in one statement per 500 users; resolves to the stored rows by user id. */
export const upsertContacts = async (
  db: Db,
  inputs: readonly ContactInput[],
): Promise<Map<string, ContactRow>> => {
  const rows = new Map<string, ContactRow>()
  const all = merged(inputs)
  for (let i = 0; i < all.length; i += 500) {
    const part = all.slice(i, i + 500)
    const now = Date.now()
    const { rows: raws } = await retryWhileBusy(() =>
      db.$client.execute({
        sql: `INSERT INTO contacts (${COLUMNS}) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ${CONFLICT}`,
        args: part.flatMap((c): InValue[] => [
          c.userId,
          c.email ?? null,
          c.phone ?? null,
          c.locale ?? null,
          c.timezone ?? null,
          now,
        ]),
      }),
    )
    // One JSON column per row: the local driver's cost is per result column.
    for (const { row } of raws) {
      const raw = JSON.parse(String(row)) as Record<string, unknown>
      rows.set(String(raw.user_id), {
        userId: String(raw.user_id),
        email: text(raw.email),
        phone: text(raw.phone),
        locale: text(raw.locale),
        timezone: text(raw.timezone),
        updatedAt: Number(raw.updated_at),
        quietStart: text(raw.quiet_start),
        quietEnd: text(raw.quiet_end),
        timezoneAt: raw.timezone_at === null ? null : Number(raw.timezone_at),
        quietAt: raw.quiet_at === null ? null : Number(raw.quiet_at),
      })
    }
  }
  return rows
}
