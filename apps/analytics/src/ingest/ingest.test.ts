import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { sql } from 'drizzle-orm'
import { readCounts } from '../counts/store.ts'
import { createTestStores, sampleEvent, type TestStores } from '../testing.ts'

let s: TestStores
beforeEach(async () => {
  s = await createTestStores()
})
afterEach(() => s.close())

const minuteRows = () =>
  s.database.db.all<{ bucket: number; tenant_id: string; type: string; source: string; count: number }>(
    sql`SELECT bucket, tenant_id, type, source, count FROM counts WHERE grain = 'minute' ORDER BY bucket, type`,
  )

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
      { bucket: at('2026-03-01T10:00:00Z'), tenant_id: 't2', type: 'order.placed', source: 'shop', count: 1 },
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
    await s.database.client.execute(
      "CREATE TRIGGER fail_once BEFORE INSERT ON counts WHEN NEW.type = 'order.placed' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    await expect(s.ingest.ingestBatch([e])).rejects.toThrow()
    await s.database.client.execute('DROP TRIGGER fail_once')
    expect(await s.ingest.ingestBatch([e])).toEqual({ counted: 1, duplicates: 0 })
  })

  it('marks the hour and the day of every counted event dirty for the rollups', async () => {
    await s.ingest.ingestBatch([
      sampleEvent('order.placed', '2026-03-01T10:20:00Z'),
      sampleEvent('order.placed', '2026-03-02T23:59:00Z'),
    ])
    const dirty = await s.database.db.all<{ grain: string; bucket: number }>(
      sql`SELECT grain, bucket FROM dirty_buckets ORDER BY grain, bucket`,
    )
    expect(dirty.map((d) => `${d.grain} ${new Date(d.bucket).toISOString()}`)).toEqual([
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
