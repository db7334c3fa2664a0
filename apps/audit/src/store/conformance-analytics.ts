/**
 * The analytics part of the store conformance suite (counts and top actors), registered inside
 * `describeStoreConformance` on its store: one dataset, checked against every implementation.
 */
import { beforeAll, describe, expect, it } from 'bun:test'
import { sampleInput } from '../records/sample.ts'
import type { AuditStore, CountDimension } from './types.ts'

/** Registers the analytics behaviours on the store `store()` returns once the suite has opened it. */
export const describeAnalyticsConformance = (store: () => AuditStore) => {
  describe('analytics', () => {
    const t1 = `a-${crypto.randomUUID().slice(0, 8)}`
    const t2 = `b-${crypto.randomUUID().slice(0, 8)}`
    const early = `c-${crypto.randomUUID().slice(0, 8)}`
    const from = new Date('2030-03-01T00:00:00.000Z')
    const to = new Date('2030-03-03T00:00:00.000Z')
    /** A counts row: the bucket starting at `bucket` (ISO), its keys and count. */
    const bucketRow = (bucket: string, keys: Partial<Record<CountDimension, string>>, count: number) => ({
      bucketMs: Date.parse(bucket),
      keys,
      count,
    })
    const actor = (id: string | null, type = 'user') =>
      id === null ? { actorType: null, actorId: null } : { actorType: type, actorId: id }
    beforeAll(async () => {
      // tenant, type, source, actor, occurredAt
      const rows: [string | null, string, string, ReturnType<typeof actor>, string][] = [
        [t1, 'user.registered', 'monolith', actor('alice'), '2030-03-01T00:10:00.000Z'],
        [t1, 'user.registered', 'monolith', actor('bob'), '2030-03-01T00:50:00.000Z'],
        [t1, 'order.placed', 'shop', actor('alice'), '2030-03-01T01:05:00.000Z'],
        [t1, 'order.placed', 'shop', actor(null), '2030-03-02T10:00:00.000Z'],
        [t2, 'user.registered', 'monolith', actor('alice'), '2030-03-01T00:20:00.000Z'],
        [null, 'order.paid', 'billing', actor('billing', 'service'), '2030-03-02T23:59:59.999Z'],
        // `to` is exclusive: never counted.
        [t1, 'order.placed', 'shop', actor('alice'), '2030-03-03T00:00:00.000Z'],
        [early, 'x.happened', 'old', actor('zed'), '1969-12-31T23:30:00.000Z'],
      ]
      await store().append(
        rows.map(([tenantId, type, source, who, occurredAt]) =>
          sampleInput({ tenantId, type, source, ...who, occurredAt }),
        ),
      )
    })

    it('answers one total without groupBy or interval, 0 when nothing matches, and no row per empty group', async () => {
      const nobody = { tenantId: `none-${crypto.randomUUID()}` }
      expect(await store().counts({ filter: nobody, groupBy: [], limit: 10 })).toEqual([
        { keys: {}, count: 0 },
      ])
      expect(await store().counts({ filter: nobody, groupBy: ['type'], limit: 10 })).toEqual([])
      expect(await store().counts({ filter: nobody, groupBy: [], interval: 'day', limit: 10 })).toEqual([])
    })

    it('counts everything in a time range, or grouped by tenant (no tenant under (none))', async () => {
      expect(await store().counts({ filter: { from, to }, groupBy: [], limit: 10 })).toEqual([
        { keys: {}, count: 6 },
      ])
      expect(await store().counts({ filter: { from, to }, groupBy: ['tenant'], limit: 10 })).toEqual([
        { keys: { tenant: t1 }, count: 4 },
        { keys: { tenant: '(none)' }, count: 1 },
        { keys: { tenant: t2 }, count: 1 },
      ])
    })

    it('counts per hour and per day (UTC buckets on occurredAt), by one or several dimensions', async () => {
      expect(
        await store().counts({
          filter: { tenantId: t1, from, to },
          groupBy: ['type'],
          interval: 'hour',
          limit: 10,
        }),
      ).toEqual([
        bucketRow('2030-03-01T00:00:00.000Z', { type: 'user.registered' }, 2),
        bucketRow('2030-03-01T01:00:00.000Z', { type: 'order.placed' }, 1),
        bucketRow('2030-03-02T10:00:00.000Z', { type: 'order.placed' }, 1),
      ])
      expect(
        await store().counts({
          filter: { tenantId: t1, from, to },
          groupBy: ['type', 'actor'],
          interval: 'day',
          limit: 10,
        }),
      ).toEqual([
        bucketRow('2030-03-01T00:00:00.000Z', { type: 'order.placed', actor: 'user:alice' }, 1),
        bucketRow('2030-03-01T00:00:00.000Z', { type: 'user.registered', actor: 'user:alice' }, 1),
        bucketRow('2030-03-01T00:00:00.000Z', { type: 'user.registered', actor: 'user:bob' }, 1),
        bucketRow('2030-03-02T00:00:00.000Z', { type: 'order.placed', actor: '(none)' }, 1),
      ])
      expect(
        await store().counts({ filter: { from, to }, groupBy: ['source'], interval: 'day', limit: 10 }),
      ).toEqual([
        bucketRow('2030-03-01T00:00:00.000Z', { source: 'monolith' }, 3),
        bucketRow('2030-03-01T00:00:00.000Z', { source: 'shop' }, 1),
        bucketRow('2030-03-02T00:00:00.000Z', { source: 'billing' }, 1),
        bucketRow('2030-03-02T00:00:00.000Z', { source: 'shop' }, 1),
      ])
    })

    it('buckets times before 1970 down, not toward zero', async () => {
      expect(
        await store().counts({ filter: { tenantId: early }, groupBy: [], interval: 'hour', limit: 10 }),
      ).toEqual([bucketRow('1969-12-31T23:00:00.000Z', {}, 1)])
    })

    it('stops at the limit, in order', async () => {
      const rows = await store().counts({
        filter: { from, to },
        groupBy: ['source'],
        interval: 'day',
        limit: 2,
      })
      expect(rows.map((r) => r.keys.source)).toEqual(['monolith', 'shop'])
    })

    it('ranks the top actors, leaving out events without one', async () => {
      expect(await store().topActors({ from, to }, 10)).toEqual([
        { actorType: 'user', actorId: 'alice', count: 3 },
        { actorType: 'service', actorId: 'billing', count: 1 },
        { actorType: 'user', actorId: 'bob', count: 1 },
      ])
      expect(await store().topActors({ from, to }, 1)).toEqual([
        { actorType: 'user', actorId: 'alice', count: 3 },
      ])
      expect(await store().topActors({ tenantId: t1, from, to, type: 'user.registered' }, 10)).toEqual([
        { actorType: 'user', actorId: 'alice', count: 1 },
        { actorType: 'user', actorId: 'bob', count: 1 },
      ])
    })
  })
}
