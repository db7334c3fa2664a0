/**
 * The recipient directory: userId → email, phone, locale, timezone, quiet hours. `auth.*` events carry only a
 * userId; this table, fed by `user.registered` and by `notification.requested` recipients, supplies the address.
 * The time zone and quiet hours (the API, `user.registered`, `user.profile.updated`) each carry the time of what
 * set them, so events applied out of order keep the newest.
 */
import type { InValue, ResultSet } from '@libsql/client'
import { eq } from 'drizzle-orm'
import type { SqlExecutor } from '../channels/types.ts'
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
  /**
   * `upsert` for many users in one statement per 500 (a batch of events): two inputs for one user are merged
   * first, in order. Resolves to the stored rows by user id.
   */
  upsertMany(contacts: readonly ContactInput[]): Promise<Map<string, ContactRow>>
  /** `upsertMany`'s statements inside the caller's write transaction (committed with it). */
  upsertManyWithin(tx: SqlExecutor, contacts: readonly ContactInput[]): Promise<Map<string, ContactRow>>
  /**
   * The rows `upsertMany(contacts)` would leave if nothing else wrote the directory meanwhile, read without
   * writing (one query per 500 users): what a batch decides on before its upsert commits with its deliveries.
   */
  expectMany(contacts: readonly ContactInput[]): Promise<Map<string, ContactRow>>
}

/** Whether two rows of a user agree on everything a request is decided on (addresses, locale, time zone, quiet hours). */
export const sameContact = (a: ContactRow | undefined, b: ContactRow | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.userId === b.userId &&
  a.email === b.email &&
  a.phone === b.phone &&
  a.locale === b.locale &&
  a.timezone === b.timezone &&
  a.quietStart === b.quietStart &&
  a.quietEnd === b.quietEnd

/**
 * The upsert's rule, written once for its SQL and for `expectMany`: each of these fields given replaces the
 * stored value, one not given keeps it (same name as field and column).
 */
const KEPT_UNLESS_GIVEN = ['email', 'phone', 'locale', 'timezone'] as const

// The one statement that writes addresses, for one user or many.
// Settings (quiet hours, and the time zone an event stamps) go through `applySettings`, which keeps the newest.
const COLUMNS = ['user_id', ...KEPT_UNLESS_GIVEN, 'updated_at']
const RETURNED = [...COLUMNS, 'quiet_start', 'quiet_end', 'timezone_at', 'quiet_at']
// One JSON column per row: the local driver's cost is per result column.
const ROW = `json_object(${RETURNED.map((c) => `'${c}', ${c}`).join(', ')}) AS row`
const UPSERT_TAIL = `ON CONFLICT (user_id) DO UPDATE SET ${KEPT_UNLESS_GIVEN.map((c) => `${c} = coalesce(excluded.${c}, contacts.${c})`).join(', ')},
  updated_at = excluded.updated_at
  RETURNING ${ROW}`
// Every batch reads its recipients' rows: SQL written here (drizzle built the 64-id query again per batch).
const rowsOf = (users: number) =>
  `SELECT ${ROW} FROM contacts WHERE user_id IN (${Array.from({ length: users }, () => '?').join(', ')})`
const upsertSql = (rows: number) =>
  `INSERT INTO contacts (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')} ${UPSERT_TAIL}`
const UPSERT_ONE = upsertSql(1)
/** Users per statement: 6 values each, far below SQLite's and PostgreSQL's parameter limits. */
const UPSERT_CHUNK = 500

const upsertArgs = (c: ContactInput, now: number): InValue[] => [
  c.userId,
  ...KEPT_UNLESS_GIVEN.map((f) => c[f] ?? null),
  now,
]

const text = (value: unknown) => (value === null || value === undefined ? null : String(value))

/** A row `RETURNING json_object(…)` gave back. */
const contactOf = (json: unknown): ContactRow => {
  const raw = JSON.parse(String(json)) as Record<string, unknown>
  return {
    userId: String(raw.user_id),
    email: text(raw.email),
    phone: text(raw.phone),
    locale: text(raw.locale),
    timezone: text(raw.timezone),
    updatedAt: Number(raw.updated_at),
    quietStart: text(raw.quiet_start),
    quietEnd: text(raw.quiet_end),
    timezoneAt: raw.timezone_at === null || raw.timezone_at === undefined ? null : Number(raw.timezone_at),
    quietAt: raw.quiet_at === null || raw.quiet_at === undefined ? null : Number(raw.quiet_at),
  }
}

/**
 * Merges inputs per user, later given fields over earlier ones: as two upserts one after the other would leave
 * the row (PostgreSQL refuses to update one row twice in a statement).
 */
const mergedByUser = (inputs: readonly ContactInput[]): ContactInput[] => {
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

/** The upsert of `inputs` (merged per user), one statement per 500 users through `run`; the stored rows by user id. */
const upsertIn = async (
  inputs: readonly ContactInput[],
  run: (statement: { sql: string; args: InValue[] }) => Promise<ResultSet>,
): Promise<Map<string, ContactRow>> => {
  const stored = new Map<string, ContactRow>()
  const all = mergedByUser(inputs)
  for (let i = 0; i < all.length; i += UPSERT_CHUNK) {
    const part = all.slice(i, i + UPSERT_CHUNK)
    const now = Date.now()
    const { rows } = await run({
      sql: part.length === 1 ? UPSERT_ONE : upsertSql(part.length),
      args: part.flatMap((c) => upsertArgs(c, now)),
    })
    for (const { row } of rows) {
      const contact = contactOf(row)
      stored.set(contact.userId, contact)
    }
  }
  return stored
}

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
      const { rows } = await retryWhileBusy(() =>
        db.$client.execute({ sql: UPSERT_ONE, args: upsertArgs(contact, Date.now()) }),
      )
      if (!rows[0]) throw new Error(`contact ${contact.userId} vanished after upsert`)
      return contactOf(rows[0].row)
    },
    async upsertMany(inputs) {
      return upsertIn(inputs, (statement) => retryWhileBusy(() => db.$client.execute(statement)))
    },
    upsertManyWithin: (tx, inputs) => upsertIn(inputs, (statement) => tx.execute(statement)),
    async expectMany(inputs) {
      const expected = new Map<string, ContactRow>()
      const all = mergedByUser(inputs)
      const now = Date.now()
      for (let i = 0; i < all.length; i += UPSERT_CHUNK) {
        const part = all.slice(i, i + UPSERT_CHUNK)
        const { rows } = await db.$client.execute({
          sql: rowsOf(part.length),
          args: part.map((c) => c.userId),
        })
        const current = new Map(rows.map(({ row }) => contactOf(row)).map((row) => [row.userId, row]))
        for (const c of part) {
          const row = current.get(c.userId)
          const next: ContactRow = {
            userId: c.userId,
            email: null,
            phone: null,
            locale: null,
            timezone: null,
            updatedAt: now,
            quietStart: row?.quietStart ?? null,
            quietEnd: row?.quietEnd ?? null,
            timezoneAt: row?.timezoneAt ?? null,
            quietAt: row?.quietAt ?? null,
          }
          for (const f of KEPT_UNLESS_GIVEN) next[f] = c[f] ?? row?.[f] ?? null
          expected.set(c.userId, next)
        }
      }
      return expected
    },
  }
}
