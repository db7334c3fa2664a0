import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { readCounts } from '../counts/store.ts'
import { readPercentiles } from '../percentiles/service.ts'
import {
  createTestStores,
  describeEachEngine,
  sampleEvent,
  TEST_REDIS_URL,
  type TestStores,
} from '../testing.ts'
import { createUniques } from '../uniques/service.ts'
import { createIngest } from './service.ts'

let s: TestStores
const FAIL_COUNTS_INSERT = {
  libsql: [
    "CREATE TRIGGER fail_once BEFORE INSERT ON counts WHEN NEW.type = 'order.placed' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    'DROP TRIGGER fail_once',
  ],
  postgresql: [
    `CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
     CREATE TRIGGER fail_once BEFORE INSERT ON counts FOR EACH ROW WHEN (NEW.type = 'order.placed') EXECUTE FUNCTION fail_once()`,
    'DROP TRIGGER fail_once ON counts; DROP FUNCTION fail_once()',
  ],
} as const

describeEachEngine((engine) => {
  beforeEach(async () => {
    s = await createTestStores({ engine })
  })
  afterEach(() => s.close())

  const minuteRows = () =>
    s.database.db.all<{ bucket: number; tenant_id: string; type: string; source: string; count: number }>(
      sql`SELECT bucket, tenant_id, type, source, count FROM counts WHERE grain = 'minute' ORDER BY bucket, type`,
    )

  /** The rollup buckets marked dirty, as `<grain> <ISO start>`. */
  const dirtyBuckets = async () =>
    (
      await s.database.db.all<{ grain: string; bucket: number }>(
        sql`SELECT grain, bucket FROM dirty_buckets ORDER BY grain, bucket`,
      )
    ).map((d) => `${d.grain} ${new Date(d.bucket).toISOString()}`)

  describe('ingestBatch', () => {
    it('counts per type, tenant, source and minute of occurrence', async () => {
      const r = await s.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-03-01T10:00:05Z', { tenantId: 't1' }),
        sampleEvent('order.placed', '2026-03-01T10:00:59Z', { tenantId: 't1' }),
        sampleEvent('order.placed', '2026-03-01T10:01:00Z', { tenantId: 't1' }),
        sampleEvent('order.placed', '2026-03-01T10:00:30Z', { tenantId: 't2', source: 'shop' }),
        sampleEvent('user.registered', '2026-03-01T10:00:30Z'),
      ])
      expect(r).toEqual({ counted: 5, duplicates: 0 })
      const at = (iso: string) => Date.parse(iso)
      expect(await minuteRows()).toEqual([
        {
          bucket: at('2026-03-01T10:00:00Z'),
          tenant_id: 't1',
          type: 'order.placed',
          source: 'monolith',
          count: 2,
        },
        {
          bucket: at('2026-03-01T10:00:00Z'),
          tenant_id: 't2',
          type: 'order.placed',
          source: 'shop',
          count: 1,
        },
        {
          bucket: at('2026-03-01T10:00:00Z'),
          tenant_id: '',
          type: 'user.registered',
          source: 'monolith',
          count: 1,
        },
        {
          bucket: at('2026-03-01T10:01:00Z'),
          tenant_id: 't1',
          type: 'order.placed',
          source: 'monolith',
          count: 1,
        },
      ])
    })

    it('never counts an envelope id twice, across batches or inside one', async () => {
      const e = sampleEvent('order.placed', '2026-03-01T10:00:05Z', { tenantId: 't1' })
      const other = sampleEvent('order.placed', '2026-03-01T10:00:06Z', { tenantId: 't1' })
      expect(await s.ingest.ingestBatch([e, e])).toEqual({ counted: 1, duplicates: 1 })
      // A producer re-append after a reconnect: same envelope, different stream entry.
      expect(await s.ingest.ingestBatch([{ ...e }, other])).toEqual({ counted: 1, duplicates: 1 })
      expect(await s.ingest.ingestBatch([e, other])).toEqual({ counted: 0, duplicates: 2 })
      expect((await minuteRows()).map((r) => r.count)).toEqual([2])
    })

    it('rolls back ids and counters together when the transaction fails', async () => {
      const e = sampleEvent('order.placed', '2026-03-01T10:00:05Z')
      // A failure after the ids are recorded, written in each engine's trigger language.
      const [create, drop] = FAIL_COUNTS_INSERT[engine]
      await s.database.exec(create)
      await expect(s.ingest.ingestBatch([e])).rejects.toThrow(/disk full/)
      await s.database.exec(drop)
      expect(await s.ingest.ingestBatch([e])).toEqual({ counted: 1, duplicates: 0 })
    })

    it('marks the hour and the day of every counted event dirty for the rollups', async () => {
      await s.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-03-01T10:20:00Z'),
        sampleEvent('order.placed', '2026-03-02T23:59:00Z'),
      ])
      expect(await dirtyBuckets()).toEqual([
        'day 2026-03-01T00:00:00.000Z',
        'day 2026-03-02T00:00:00.000Z',
        'hour 2026-03-01T10:00:00.000Z',
        'hour 2026-03-02T23:00:00.000Z',
      ])
    })

    it('reads dirty hours from minutes until they are rolled up', async () => {
      await s.ingest.ingestBatch([sampleEvent('order.placed', '2026-03-01T10:20:00Z', { tenantId: 't1' })])
      const read = () =>
        readCounts(s.database.db, {
          grain: 'day',
          start: Date.parse('2026-03-01T00:00:00Z'),
          end: Date.parse('2026-03-02T00:00:00Z'),
          filter: { tenantId: 't1' },
          groupBy: ['bucket'],
        })
      expect((await read()).map((r) => r.count)).toEqual([1])
      await s.rollups.rollupDirty()
      expect((await read()).map((r) => r.count)).toEqual([1])
    })
  })

  describe('ingestBatch under redelivery and at bucket edges', () => {
    const t = Date.parse
    const day = { from: t('2026-03-01T00:00:00Z'), to: t('2026-03-02T00:00:00Z') }
    const totals = async () =>
      (
        await s.database.db.all<{ n: number | null }>(
          sql`SELECT SUM(count) AS n FROM counts WHERE grain = 'minute'`,
        )
      )[0]?.n ?? 0
    const durationCount = async (tenantId = 't1') =>
      (await readPercentiles(s.database.db, { tenantId, type: 'job.finished' }, day.from, day.to)).count

    it('counts nothing, and no duration, when a whole batch is delivered again', async () => {
      const batch = Array.from({ length: 300 }, (_, i) =>
        sampleEvent('job.finished', new Date(t('2026-03-01T10:00:00Z') + i * 1000), {
          tenantId: 't1',
          payload: { durationMs: i },
        }),
      )
      expect(await s.ingest.ingestBatch(batch)).toEqual({ counted: 300, duplicates: 0 })
      const rows = await minuteRows()
      expect(await s.ingest.ingestBatch(batch)).toEqual({ counted: 0, duplicates: 300 })
      expect(await s.ingest.ingestBatch([...batch].reverse())).toEqual({ counted: 0, duplicates: 300 })
      expect(await minuteRows()).toEqual(rows)
      expect(await totals()).toBe(300)
      expect(await durationCount()).toBe(300)
    })

    it('counts only the new events of a batch that mixes counted ids, new ids and in-batch repeats', async () => {
      const at = (i: number) => new Date(t('2026-03-01T10:00:00Z') + i * 1000)
      const old = Array.from({ length: 5 }, (_, i) =>
        sampleEvent('job.finished', at(i), { tenantId: 't1', payload: { durationMs: 1000 } }),
      )
      await s.ingest.ingestBatch(old)
      const fresh = Array.from({ length: 3 }, (_, i) =>
        sampleEvent('job.finished', at(100 + i), { tenantId: 't1', payload: { durationMs: 10 } }),
      )
      const mixed = [old[0], fresh[0], old[1], fresh[1], fresh[1], { ...fresh[2] }, fresh[2], old[4]].map(
        (e) => e as (typeof old)[number],
      )
      expect(await s.ingest.ingestBatch(mixed)).toEqual({ counted: 3, duplicates: 5 })
      expect(await totals()).toBe(8)
      const p = await readPercentiles(s.database.db, { tenantId: 't1' }, day.from, day.to)
      expect(p.count).toBe(8)
      // Three of eight at 10 ms: the median is still 1000 ms, so no old duration was merged twice.
      expect(p.p50).toBeCloseTo(1000, -1)
      // Every id is recorded now: the same mix again counts nothing.
      expect(await s.ingest.ingestBatch(mixed)).toEqual({ counted: 0, duplicates: 8 })
      expect(await totals()).toBe(8)
    })

    it('splits one batch into minute, hour and day counters at the last and first millisecond of each', async () => {
      const edges = [
        '2026-03-01T10:59:59.999Z',
        '2026-03-01T11:00:00.000Z',
        '2026-03-01T23:59:59.999Z',
        '2026-03-02T00:00:00.000Z',
        '2026-03-02T00:00:59.999Z',
      ]
      await s.ingest.ingestBatch(
        edges.map((iso) => sampleEvent('order.placed', iso, { tenantId: 't1', payload: { durationMs: 5 } })),
      )
      expect((await minuteRows()).map((r) => `${new Date(r.bucket).toISOString()} ${r.count}`)).toEqual([
        '2026-03-01T10:59:00.000Z 1',
        '2026-03-01T11:00:00.000Z 1',
        '2026-03-01T23:59:00.000Z 1',
        '2026-03-02T00:00:00.000Z 2',
      ])
      expect(await dirtyBuckets()).toEqual([
        'day 2026-03-01T00:00:00.000Z',
        'day 2026-03-02T00:00:00.000Z',
        'hour 2026-03-01T10:00:00.000Z',
        'hour 2026-03-01T11:00:00.000Z',
        'hour 2026-03-01T23:00:00.000Z',
        'hour 2026-03-02T00:00:00.000Z',
      ])
      const sketches = await s.database.db.all<{ bucket: number }>(
        sql`SELECT bucket FROM duration_sketches ORDER BY bucket`,
      )
      expect(sketches.map((r) => new Date(r.bucket).toISOString())).toEqual([
        '2026-03-01T10:00:00.000Z',
        '2026-03-01T11:00:00.000Z',
        '2026-03-01T23:00:00.000Z',
        '2026-03-02T00:00:00.000Z',
      ])
      await s.rollups.rollupDirty()
      const hours = await readCounts(s.database.db, {
        grain: 'hour',
        start: t('2026-03-01T00:00:00Z'),
        end: t('2026-03-03T00:00:00Z'),
        filter: { tenantId: 't1' },
        groupBy: ['bucket'],
      })
      expect(hours.map((r) => `${new Date(r.bucket).toISOString()} ${r.count}`)).toEqual([
        '2026-03-01T10:00:00.000Z 1',
        '2026-03-01T11:00:00.000Z 1',
        '2026-03-01T23:00:00.000Z 1',
        '2026-03-02T00:00:00.000Z 2',
      ])
    })

    it('adds to the counters a previous batch left in the same minute, and one sketch per series', async () => {
      for (let round = 0; round < 3; round++) {
        await s.ingest.ingestBatch(
          Array.from({ length: 250 }, (_, i) =>
            sampleEvent(i % 2 ? 'job.finished' : 'job.started', '2026-03-01T10:00:30Z', {
              tenantId: i % 5 ? 't1' : 't2',
              payload: { durationMs: round * 100 + (i % 7) },
            }),
          ),
        )
      }
      expect((await minuteRows()).map((r) => `${r.tenant_id} ${r.type} ${r.count}`)).toEqual([
        't1 job.finished 300',
        't2 job.finished 75',
        't1 job.started 300',
        't2 job.started 75',
      ])
      const series = await s.database.db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM duration_sketches`)
      expect(series[0]?.n).toBe(4)
      expect(await durationCount('t1')).toBe(300)
      expect(await durationCount('t2')).toBe(75)
    })

    it('counts hundreds of distinct counters of one batch in one pass', async () => {
      const batch = Array.from({ length: 600 }, (_, i) =>
        sampleEvent(`type${i % 200}.done`, new Date(t('2026-03-01T10:00:00Z') + (i % 3) * 60_000), {
          tenantId: `t${i % 7}`,
        }),
      )
      expect(await s.ingest.ingestBatch(batch)).toEqual({ counted: 600, duplicates: 0 })
      const rows = await minuteRows()
      expect(rows.length).toBe(600)
      expect(rows.every((r) => r.count === 1)).toBe(true)
      expect(await totals()).toBe(600)
    })

    it('stores any tenant id so that a query with the same id reads it back', async () => {
      const tenants = ['é', '😀', 'a\u0000b', '"quoted"', 'back\\slash', 'lone \ud800 surrogate', ' spaced ']
      for (const tenantId of tenants) {
        await s.ingest.ingestBatch([
          sampleEvent('job.finished', '2026-03-01T10:00:00Z', { tenantId, payload: { durationMs: 7 } }),
        ])
        await s.ingest.ingestBatch([
          sampleEvent('job.finished', '2026-03-01T10:00:10Z', { tenantId, payload: { durationMs: 9 } }),
        ])
      }
      for (const tenantId of tenants) {
        const rows = await readCounts(s.database.db, {
          grain: 'minute',
          ...{ start: day.from, end: day.to },
          filter: { tenantId },
          groupBy: [],
        })
        expect({ tenantId, count: rows[0]?.count }).toEqual({ tenantId, count: 2 })
        // Both batches merged into the tenant's one sketch rather than the second replacing the first.
        expect({ tenantId, durations: await durationCount(tenantId) }).toEqual({ tenantId, durations: 2 })
      }
    })

    it('counts exactly once and keeps every actor when Redis fails during a batch and the batch is retried', async () => {
      const broken = new Redis(TEST_REDIS_URL)
      await broken.quit()
      const failing = createIngest({
        db: s.database.db,
        uniques: createUniques({
          redis: broken,
          db: s.database.db,
          prefix: s.prefix,
          hourTtlMs: 86_400_000,
          dayTtlMs: 86_400_000,
        }),
      })
      const batch = ['u1', 'u2', 'u3'].map((actor, i) =>
        sampleEvent('order.placed', new Date(t('2026-03-01T10:00:00Z') + i), { tenantId: 't1', actor }),
      )
      await expect(failing.ingestBatch(batch)).rejects.toThrow('Connection is closed')
      // The redelivery: whatever the failed call committed, the counters end exact and every actor is in.
      await s.ingest.ingestBatch(batch)
      await s.ingest.ingestBatch(batch)
      expect(await totals()).toBe(3)
      const orders = [{ type: 'order.placed', tenantId: 't1' }]
      expect((await s.uniques.count(orders, day.from, day.to, t('2026-03-01T12:00:00Z'))).value).toBe(3)
    })
  })
})
