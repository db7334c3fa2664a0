/** Preferences in libSQL: one row per opted-out (user, category, channel). */
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { retryWhileBusy } from '../db/client.ts'
import { preferences } from '../db/schema.ts'
import type { ChannelName } from '../templates/model.ts'
import type { OptOut } from './model.ts'

export interface PreferenceStore {
  optOuts(userId: string): Promise<OptOut[]>
  /** Replaces the user's opt-outs (one transaction). */
  replace(userId: string, optOuts: readonly OptOut[]): Promise<OptOut[]>
  isOptedOut(userId: string, category: string, channel: ChannelName): Promise<boolean>
  /** Every opt-out of these users, as `userId|category|channel` keys (`optOutKey`), in one query. */
  optedOutOf(userIds: readonly string[]): Promise<Set<string>>
}

/** The key `optedOutOf` answers with. */
export const optOutKey = (userId: string, category: string, channel: string) =>
  `${userId}|${category}|${channel}`

// Every non-critical delivery runs it: short SQL written once (drizzle would rebuild it per call).
const OPTED_OUT = 'SELECT 1 FROM preferences WHERE user_id = ? AND category = ? AND channel = ?'

export const createPreferenceStore = (db: Db): PreferenceStore => {
  const optOuts = async (userId: string) =>
    (
      await db
        .select({ category: preferences.category, channel: preferences.channel })
        .from(preferences)
        .where(eq(preferences.userId, userId))
        .orderBy(preferences.category, preferences.channel)
    ).map((row) => ({ category: row.category, channel: row.channel as ChannelName }))
  return {
    optOuts,
    async replace(userId, next) {
      const now = Date.now()
      const unique = [...new Map(next.map((o) => [`${o.category}|${o.channel}`, o])).values()]
      await retryWhileBusy(() =>
        db.transaction(async (tx) => {
          await tx.delete(preferences).where(eq(preferences.userId, userId))
          if (unique.length > 0)
            await tx.insert(preferences).values(unique.map((o) => ({ userId, ...o, updatedAt: now })))
        }),
      )
      return optOuts(userId)
    },
    async isOptedOut(userId, category, channel) {
      const found = await db.$client.execute({ sql: OPTED_OUT, args: [userId, category, channel] })
      return found.rows.length > 0
    },
    async optedOutOf(userIds) {
      const keys = new Set<string>()
      const unique = [...new Set(userIds)]
      for (let i = 0; i < unique.length; i += 500) {
        const part = unique.slice(i, i + 500)
        const { rows } = await db.$client.execute({
          sql: `SELECT user_id, category, channel FROM preferences WHERE user_id IN (${part.map(() => '?').join(', ')})`,
          args: part,
        })
        for (const row of rows)
          keys.add(optOutKey(String(row.user_id), String(row.category), String(row.channel)))
      }
      return keys
    },
  }
}
