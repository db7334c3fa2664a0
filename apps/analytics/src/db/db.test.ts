import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { itWaitsForItsDatabase } from '@flotilla/service-kit/testing'
import { sql } from 'drizzle-orm'
import { createIngest } from '../ingest/service.ts'
import { createRollups } from '../rollups/service.ts'
import { analyticsService } from '../service.ts'
import { createTestStores, describeEachEngine, sampleEvent, type TestStores } from '../testing.ts'
import { type Database, openDatabase } from './client.ts'
import { MIGRATIONS } from './migrations.ts'

let s: TestStores
let other: Database

describeEachEngine((engine) => {
  beforeEach(async () => {
    s = await createTestStores({ engine })
    other = await openDatabase({ url: s.dbUrl })
  })
  afterEach(async () => {
    await other.close()
    await other.close()
    await s.close()
  })

  describe('database', () => {
    it('migrates once, however many instances open it', async () => {
      const table = engine === 'libsql' ? 'schema_migrations' : 'analytics_schema_migrations'
      const more = await Promise.all([1, 2, 3].map(() => openDatabase({ url: s.dbUrl })))
      const rows = await other.db.all<{ name: string }>(sql`SELECT name FROM ${sql.raw(table)}`)
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name))
      await Promise.all(more.map((d) => d.close()))
    })

    it('keeps every count exact with writers on two handles, duplicates between them, and rollups running', async () => {
      // libSQL: without the write queue, a writer waiting on SQLite's busy handler blocks the event loop that the
      // lock holder needs to finish (a deadlock until the busy timeout). PostgreSQL: two pools write at once, so
      // counters, ids and sketches must be safe under real concurrency, and rollups must not run beside a batch.
      const ingestOther = createIngest({ db: other.db, uniques: s.uniques })
      const rollups = createRollups({
        db: other.db,
        minuteRetentionMs: 86_400_000,
        hourRetentionMs: 2 * 86_400_000,
        processedRetentionMs: 86_400_000,
      })
      const events = Array.from({ length: 4500 }, (_, i) =>
        sampleEvent(`order.placed`, new Date(Date.parse('2026-01-01T00:00:00Z') + i * 60_000), {
          tenantId: `t${i % 3}`,
          payload: { durationMs: i % 97 },
        }),
      )
      // Three writers; the third replays the first writer's batches (a redelivery racing the original).
      const writer = (ingest: typeof ingestOther, batches: (typeof events)[]) => async () => {
        for (const batch of batches) await ingest.ingestBatch(batch)
      }
      const batches = Array.from({ length: 45 }, (_, k) => events.slice(k * 100, k * 100 + 100))
      await Promise.all([
        writer(s.ingest, batches.slice(0, 15))(),
        writer(ingestOther, batches.slice(15))(),
        writer(ingestOther, batches.slice(0, 15).reverse())(),
        (async () => {
          for (let k = 0; k < 10; k++) await rollups.rollupDirty()
        })(),
      ])
      await rollups.rollupDirty()
      const sum = async (grain: string) =>
        Number(
          (
            await s.database.db.all<{ n: number }>(
              sql`SELECT SUM(count) AS n FROM counts WHERE grain = ${grain}`,
            )
          )[0]?.n,
        )
      expect([await sum('minute'), await sum('hour'), await sum('day')]).toEqual([4500, 4500, 4500])
      const [ids] = await s.database.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM processed_events`)
      expect(Number(ids?.n)).toBe(4500)
    }, 60_000)
  })
})

describe('analytics on PostgreSQL, through the runner', () => {
  itWaitsForItsDatabase(analyticsService, {
    urlVariable: 'ANALYTICS_DB_URL',
    prefixVariable: 'ANALYTICS_REDIS_PREFIX',
    check: 'store',
  })
})
