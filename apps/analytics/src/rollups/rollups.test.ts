import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestStores, describeEachEngine, sampleEvent, type TestStores } from '../testing.ts'

let s: TestStores
let clock = Date.parse('2026-03-20T00:00:00Z')
describeEachEngine((engine) => {
  beforeEach(async () => {
    clock = Date.parse('2026-03-20T00:00:00Z')
    s = await createTestStores({
      engine,
      now: () => clock,
      minuteRetentionMs: 7 * 86_400_000,
      hourRetentionMs: 14 * 86_400_000,
    })
  })
  afterEach(() => s.close())

  const rows = (grain: string) =>
    s.database.db.all<{ bucket: number; tenant_id: string; type: string; source: string; count: number }>(
      sql`SELECT bucket, tenant_id, type, source, count FROM counts WHERE grain = ${grain} ORDER BY bucket, tenant_id, type, source`,
    )
  const total = async (grain: string) => (await rows(grain)).reduce((n, r) => n + r.count, 0)
  const dirtyCount = async () => (await s.database.db.all(sql`SELECT 1 FROM dirty_buckets`)).length

  const spread = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      sampleEvent(
        i % 3 === 0 ? 'user.registered' : 'order.placed',
        new Date(Date.parse('2026-03-01T00:00:00Z') + i * 7 * 60_000),
        {
          tenantId: `t${i % 2}`,
          source: i % 5 === 0 ? 'shop' : 'monolith',
        },
      ),
    )

  describe('rollups', () => {
    it('rolls minutes into hours and hours into days with the same totals', async () => {
      await s.ingest.ingestBatch(spread(600))
      const r = await s.rollups.rollupDirty()
      expect(r.hours).toBeGreaterThan(24)
      expect(r.days).toBeGreaterThan(1)
      expect(await total('minute')).toBe(600)
      expect(await total('hour')).toBe(600)
      expect(await total('day')).toBe(600)
      expect(await dirtyCount()).toBe(0)
    })

    it('gives the same numbers when re-run twice (recompute, never increment)', async () => {
      await s.ingest.ingestBatch(spread(600))
      await s.rollups.rollupDirty()
      const hours = await rows('hour')
      const days = await rows('day')
      const from = Date.parse('2026-02-01T00:00:00Z')
      const to = Date.parse('2026-04-01T00:00:00Z')
      await s.rollups.rebuild(from, to)
      await s.rollups.rebuild(from, to)
      expect(await rows('hour')).toEqual(hours)
      expect(await rows('day')).toEqual(days)
      expect(await s.rollups.rollupDirty()).toEqual({ hours: 0, days: 0 })
    })

    it('folds a late event into its hour and its day after they were rolled up', async () => {
      await s.ingest.ingestBatch(spread(100))
      await s.rollups.rollupDirty()
      const hour = Date.parse('2026-03-01T05:00:00Z')
      const day = Date.parse('2026-03-01T00:00:00Z')
      const at = async (grain: string, bucket: number) =>
        (await rows(grain))
          .filter((r) => r.bucket === bucket && r.tenant_id === 'late')
          .reduce((n, r) => n + r.count, 0)
      await s.ingest.ingestBatch([sampleEvent('order.placed', '2026-03-01T05:42:00Z', { tenantId: 'late' })])
      expect(await dirtyCount()).toBe(2)
      await s.rollups.rollupDirty()
      expect(await at('hour', hour)).toBe(1)
      expect(await at('day', day)).toBe(1)
      expect(await total('day')).toBe(101)
    })

    it('compacts old minutes into hours and old hours into days, keeping totals and late events exact', async () => {
      await s.ingest.ingestBatch(spread(600)) // 2026-03-01 … 2026-03-03
      await s.rollups.rollupDirty()
      const before = { minute: await rows('minute'), hour: await total('hour'), day: await rows('day') }
      clock = Date.parse('2026-04-01T00:00:00Z')
      const r = await s.rollups.retain()
      expect(r.compactedHours).toBeGreaterThan(0)
      expect(r.compactedDays).toBeGreaterThan(0)
      expect((await rows('minute')).length).toBeLessThan(before.minute.length)
      expect((await rows('minute')).every((x) => x.bucket % 3_600_000 === 0)).toBe(true)
      expect((await rows('hour')).every((x) => x.bucket % 86_400_000 === 0)).toBe(true)
      expect(await total('minute')).toBe(600)
      expect(await total('hour')).toBe(before.hour)
      // A late event into a compacted hour, then a full rebuild: still exact.
      await s.ingest.ingestBatch([sampleEvent('order.placed', '2026-03-01T05:42:00Z', { tenantId: 't0' })])
      await s.rollups.rebuild(Date.parse('2026-02-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z'))
      expect(await total('day')).toBe(601)
      expect((await rows('day')).length).toBe(before.day.length)
    })

    it('folds a late event into a day whose hours were compacted, without counting the day twice', async () => {
      await s.ingest.ingestBatch(spread(600)) // 2026-03-01 … 2026-03-03
      await s.rollups.rollupDirty()
      clock = Date.parse('2026-05-01T00:00:00Z') // past both retentions
      await s.rollups.retain()
      await s.ingest.ingestBatch([sampleEvent('order.placed', '2026-03-01T05:42:00Z', { tenantId: 't0' })])
      await s.rollups.rollupDirty()
      expect(await total('day')).toBe(601)
      expect(await total('hour')).toBe(601)
      expect(await total('minute')).toBe(601)
      const day = Date.parse('2026-03-01T00:00:00Z')
      const hoursOfDay = (await rows('hour')).filter((r) => r.bucket >= day && r.bucket < day + 86_400_000)
      const dayRow = (await rows('day')).filter((r) => r.bucket === day)
      expect(hoursOfDay.reduce((n, r) => n + r.count, 0)).toBe(dayRow.reduce((n, r) => n + r.count, 0))
    })

    it('prunes processed ids and job records older than their retention only', async () => {
      await s.ingest.ingestBatch(spread(10))
      clock += 29 * 86_400_000
      await s.ingest.ingestBatch(spread(5).map((e) => ({ ...e, id: crypto.randomUUID() })))
      await s.database.db.run(
        sql`INSERT INTO job_runs (job, slot, instance, started_at) VALUES ('rollup', 1, 'old', ${clock - 8 * 86_400_000}), ('rollup', 2, 'new', ${clock})`,
      )
      clock += 2 * 86_400_000
      expect(await s.rollups.retain()).toMatchObject({ prunedIds: 10, prunedJobRuns: 1 })
      expect((await s.database.db.all(sql`SELECT 1 FROM processed_events`)).length).toBe(5)
    })
  })
})
