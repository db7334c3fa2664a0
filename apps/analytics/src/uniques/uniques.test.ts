import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createTestStores, deleteKeys, describeEachEngine, sampleEvent, type TestStores } from '../testing.ts'

let s: TestStores
describeEachEngine((engine) => {
  beforeEach(async () => {
    s = await createTestStores({ engine })
  })
  afterEach(() => s.close())

  const t = Date.parse
  const now = t('2026-03-05T00:00:00Z')
  const orders = [{ type: 'order.placed', tenantId: 't1' }]

  const seed = async () => {
    const events = []
    // 300 actors on March 1st (10:00–12:59), 200 of them again on March 2nd plus 100 new ones.
    for (let i = 0; i < 300; i++)
      events.push(
        sampleEvent('order.placed', new Date(t('2026-03-01T10:00:00Z') + i * 36_000), {
          tenantId: 't1',
          actor: `u${i}`,
        }),
      )
    for (let i = 100; i < 400; i++)
      events.push(
        sampleEvent('order.placed', new Date(t('2026-03-02T08:00:00Z') + i * 1000), {
          tenantId: 't1',
          actor: `u${i}`,
        }),
      )
    events.push(
      sampleEvent('order.placed', '2026-03-01T10:00:00Z', { tenantId: 't2', actor: 'other-tenant' }),
    )
    await s.ingest.ingestBatch(events)
  }

  describe('uniques', () => {
    it('counts distinct actors over hours, days and ranges (HLL union)', async () => {
      await seed()
      const count = (from: string, to: string) => s.uniques.count(orders, t(from), t(to), now)
      expect((await count('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')).value).toBeCloseTo(300, -1)
      expect((await count('2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z')).value).toBeCloseTo(400, -1)
      // Hour edges: 10:00–11:00 holds actors u0…u99.
      expect((await count('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z')).value).toBeCloseTo(100, -1)
      expect((await count('2026-03-01T13:00:00Z', '2026-03-02T08:00:00Z')).value).toBe(0)
    })

    it('does not count the same actor twice when events are redelivered', async () => {
      const e = sampleEvent('order.placed', '2026-03-01T10:00:00Z', { tenantId: 't1', actor: 'u1' })
      await s.ingest.ingestBatch([e])
      await s.ingest.ingestBatch([
        e,
        sampleEvent('order.placed', '2026-03-01T10:05:00Z', { tenantId: 't1', actor: 'u1' }),
      ])
      expect(
        (await s.uniques.count(orders, t('2026-03-01T00:00:00Z'), t('2026-03-02T00:00:00Z'), now)).value,
      ).toBe(1)
    })

    it('survives a Redis loss: daily sketches come back from libSQL and merge with new ones', async () => {
      await seed()
      expect(await s.uniques.persist()).toBe(3)
      await deleteKeys(s.redis, `${s.prefix}:*`) // Redis restarted without persistence
      // New activity after the loss creates a fresh, partial sketch for March 2nd.
      await s.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-03-02T09:00:00Z', { tenantId: 't1', actor: 'u-new' }),
      ])
      await s.uniques.persist()
      const day = (d: string) =>
        s.uniques
          .count(orders, t(`${d}T00:00:00Z`), t(`${d}T00:00:00Z`) + 86_400_000, now)
          .then((c) => c.value)
      expect(await day('2026-03-01')).toBeCloseTo(300, -1)
      expect(await day('2026-03-02')).toBeCloseTo(301, -1)
    })

    it('answers from daily sketches, flagged approximate, once hourly sketches have expired', async () => {
      await seed()
      const later = t('2026-04-01T00:00:00Z')
      const r = await s.uniques.count(orders, t('2026-03-01T10:00:00Z'), t('2026-03-01T11:00:00Z'), later)
      expect(r.approximate).toBe(true)
      expect(r.value).toBeCloseTo(300, -1)
    })

    it('merges through a temporary key when a range needs more sketches than one PFCOUNT takes', async () => {
      const types = Array.from({ length: 30 }, (_, i) => `kind.k${i}`)
      await s.ingest.ingestBatch(
        types.flatMap((type, i) => [
          sampleEvent(type, '2026-03-02T10:00:00Z', { tenantId: 't1', actor: `a${i % 10}` }),
          sampleEvent(type, '2026-03-15T10:00:00Z', { tenantId: 't1', actor: `b${i % 7}` }),
        ]),
      )
      const series = types.map((type) => ({ type, tenantId: 't1' }))
      // 30 series × 20 days = 600 daily sketches.
      const wide = await s.uniques.count(series, t('2026-03-01T00:00:00Z'), t('2026-03-21T00:00:00Z'), now)
      expect(wide.value).toBe(17)
      expect(await s.redis.keys(`${s.prefix}:*tmp*`)).toEqual([])
    })
  })
})
