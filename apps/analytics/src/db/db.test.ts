import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createIngest } from '../ingest/service.ts'
import { createRollups } from '../rollups/service.ts'
import { createTestStores, sampleEvent, type TestStores } from '../testing.ts'
import { type Database, openDatabase } from './client.ts'
import { MIGRATIONS } from './migrations.ts'

let s: TestStores
let other: Database
beforeEach(async () => {
  s = await createTestStores()
  other = await openDatabase({ url: s.dbUrl })
})
afterEach(async () => {
  other.close()
  other.close()
  await s.close()
})

describe('database', () => {
  it('migrates once, however many instances open it', async () => {
    const rows = await other.db.all<{ name: string }>(sql`SELECT name FROM schema_migrations ORDER BY rowid`)
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name))
  })

  it('lets writers on two connections of one process interleave without SQLITE_BUSY', async () => {
    // Without the write queue, a writer waiting on SQLite's busy handler blocks the event loop that the
    // lock holder needs to finish: a deadlock until the busy timeout, then SQLITE_BUSY.
    const ingestOther = createIngest({ db: other.db, uniques: s.uniques })
    const rollups = createRollups({
      db: other.db,
      minuteRetentionMs: 86_400_000,
      hourRetentionMs: 2 * 86_400_000,
      processedRetentionMs: 86_400_000,
    })
    const batch = (k: number) =>
      Array.from({ length: 100 }, (_, i) =>
        sampleEvent('order.placed', new Date(Date.parse('2026-01-01T00:00:00Z') + (k * 100 + i) * 60_000)),
      )
    const writer = (ingest: typeof ingestOther, offset: number) => async () => {
      for (let k = 0; k < 15; k++) await ingest.ingestBatch(batch(offset + k))
    }
    await Promise.all([
      writer(s.ingest, 0)(),
      writer(ingestOther, 100)(),
      writer(s.ingest, 200)(),
      (async () => {
        for (let k = 0; k < 10; k++) await rollups.rollupDirty()
      })(),
    ])
    await rollups.rollupDirty()
    const sum = async (grain: string) =>
      (
        await s.database.db.all<{ n: number }>(sql`SELECT SUM(count) AS n FROM counts WHERE grain = ${grain}`)
      )[0]?.n
    expect([await sum('minute'), await sum('hour'), await sum('day')]).toEqual([4500, 4500, 4500])
  }, 30_000)
})
