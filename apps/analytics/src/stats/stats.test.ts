import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { errorDocProblems } from '@flotilla/service-kit'
import { ERRORS } from '../errors.ts'
import { createTestApp, describeEachEngine, sampleEvent, type TestApp } from '../testing.ts'
import { localDate } from '../time/zone.ts'

let h: TestApp
let service: string
describeEachEngine((engine) => {
  beforeAll(async () => {
    h = await createTestApp({ engine, env: { ANALYTICS_MAX_POINTS: '400' } })
    service = await h.serviceToken()
  })
  afterAll(() => h.close())

  const HOUR = 3_600_000
  const json = async (path: string, token = service) => {
    const res = await h.get(path, token)
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { code: string } },
    }
  }
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString()

  describe('GET /v1/stats/timeseries across DST', () => {
    // One event per UTC hour: a local day's count is its length in hours (23 on spring-forward, 25 on fall-back).
    const seeded = new Map<string, number>()
    const seed = async (tenantId: string, from: string, hours: number) => {
      const start = Date.parse(from)
      const events = Array.from({ length: hours }, (_, i) =>
        sampleEvent('clock.ticked', new Date(start + i * HOUR + 17 * 60_000), { tenantId }),
      )
      await h.deps.ingest.ingestBatch(events)
      seeded.set(tenantId, hours)
    }

    it.each([
      ['Europe/Paris', '2026-03-27T00:00:00+01:00', '2026-03-31T00:00:00+02:00', 'spring', '2026-03-29'],
      ['Europe/Paris', '2026-10-23T00:00:00+02:00', '2026-10-27T00:00:00+01:00', 'fall', '2026-10-25'],
      ['America/New_York', '2026-03-06T00:00:00-05:00', '2026-03-10T00:00:00-04:00', 'spring', '2026-03-08'],
      ['America/New_York', '2026-10-30T00:00:00-04:00', '2026-11-03T00:00:00-05:00', 'fall', '2026-11-01'],
    ])(
      'gives one point per local day in %s from %s to %s (%s change on %s)',
      async (tz, from, to, season, changeDay) => {
        const tenantId = `dst-${tz}-${season}`
        const span = (Date.parse(to) - Date.parse(from)) / HOUR
        // Seed a day of margin on both sides so neighbouring days are not empty.
        await seed(tenantId, new Date(Date.parse(from) - 24 * HOUR).toISOString(), span + 48)
        for (const phase of ['before rollup', 'after rollup']) {
          if (phase === 'after rollup') await h.deps.rollups.rollupDirty()
          const { status, body } = await json(
            `/v1/stats/timeseries?${q({ type: 'clock.ticked', tenantId, from, to, interval: 'day', tz })}`,
          )
          expect(status).toBe(200)
          const points = body.points as { local: string; count: number; start: string }[]
          expect(points).toHaveLength(4)
          expect(new Set(points.map((p) => p.local.slice(0, 10))).size).toBe(4)
          for (const p of points) {
            expect(p.local.slice(11)).toBe('00:00')
            const d = localDate(tz, Date.parse(p.start))
            const expected = p.local.startsWith(changeDay) ? (season === 'spring' ? 23 : 25) : 24
            expect([
              `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`,
              p.count,
            ]).toEqual([p.local.slice(0, 10), expected])
          }
          expect(body.total).toBe(span)
          expect(body.granularity).toBe('hour')
        }
      },
    )

    it('zero-fills empty buckets and reads whole UTC days from day rollups', async () => {
      await h.deps.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-05-02T10:00:00Z', { tenantId: 'zf' }),
        sampleEvent('order.placed', '2026-05-04T23:59:59Z', { tenantId: 'zf' }),
      ])
      await h.deps.rollups.rollupDirty()
      const { body } = await json(
        `/v1/stats/timeseries?${q({ tenantId: 'zf', from: '2026-05-01T00:00:00Z', to: '2026-05-06T00:00:00Z', interval: 'day' })}`,
      )
      expect((body.points as { count: number }[]).map((p) => p.count)).toEqual([0, 1, 0, 1, 0])
      expect(body.granularity).toBe('day')
    })

    it('matches a type prefix, an exact type and a source', async () => {
      await h.deps.ingest.ingestBatch([
        sampleEvent('user.registered', '2026-06-01T10:00:00Z', { tenantId: 'px' }),
        sampleEvent('user.login.failed', '2026-06-01T10:01:00Z', { tenantId: 'px', source: 'edge' }),
        sampleEvent('users.imported', '2026-06-01T10:02:00Z', { tenantId: 'px' }),
        sampleEvent('order.placed', '2026-06-01T10:03:00Z', { tenantId: 'px' }),
      ])
      const total = async (extra: Record<string, string>) =>
        (
          await json(
            `/v1/stats/timeseries?${q({ tenantId: 'px', from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z', interval: 'hour', ...extra })}`,
          )
        ).body.total
      expect(await total({ type: 'user.*' })).toBe(2)
      expect(await total({ type: 'user.login.*' })).toBe(1)
      expect(await total({ type: 'user.registered' })).toBe(1)
      expect(await total({ type: '*' })).toBe(4)
      expect(await total({ source: 'edge' })).toBe(1)
    })
  })

  describe('bad input', () => {
    const base = { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', interval: 'hour' }
    it.each([
      [{ ...base, from: 'yesterday' }, 'INVALID_RANGE'],
      [{ ...base, from: '2026-01-03T00:00:00Z' }, 'INVALID_RANGE'],
      [{ ...base, to: base.from }, 'INVALID_RANGE'],
      [{ ...base, interval: 'fortnight' }, 'INVALID_INTERVAL'],
      [{ ...base, tz: 'Mars/Olympus_Mons' }, 'INVALID_TIME_ZONE'],
      [{ ...base, interval: 'week', weekStart: 'caturday' }, 'INVALID_WEEK_START'],
      [{ ...base, type: 'User Registered' }, 'INVALID_TYPE'],
      [{ ...base, interval: 'minute', to: '2026-01-09T00:00:00Z' }, 'TOO_MANY_POINTS'],
    ])('answers 422 with a code for %j', async (params, code) => {
      const { status, body } = await json(`/v1/stats/timeseries?${q(params)}`)
      expect([status, body.error?.code]).toEqual([422, code])
    })

    it('refuses minute uniques and over-long summaries', async () => {
      expect((await json(`/v1/stats/uniques?${q({ ...base, interval: 'minute' })}`)).body.error?.code).toBe(
        'INVALID_INTERVAL',
      )
      const long = await json(
        `/v1/stats/summary?${q({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })}`,
      )
      expect([long.status, long.body.error?.code]).toEqual([422, 'RANGE_TOO_LONG'])
    })

    it('answers 401 without a token and 401 for a token of another service audience', async () => {
      const summary = { from: base.from, to: base.to }
      expect((await json(`/v1/stats/summary?${q(summary)}`, '')).status).toBe(401)
      expect((await json(`/v1/stats/summary?${q(summary)}`, 'not.a.token')).status).toBe(401)
    })

    it('refuses an unknown query parameter with 422 rather than ignoring it (a typo must not widen a query)', async () => {
      const res = await json(`/v1/stats/summary?${q({ from: base.from, to: base.to, tenantID: 'acme' })}`)
      expect(res.status).toBe(422)
    })
  })

  describe('tenant isolation', () => {
    beforeAll(async () => {
      await h.deps.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-07-01T10:00:00Z', { tenantId: 'acme', actor: 'a1' }),
        sampleEvent('order.placed', '2026-07-01T10:05:00Z', { tenantId: 'acme', actor: 'a2' }),
        sampleEvent('order.placed', '2026-07-01T10:00:00Z', { tenantId: 'globex', actor: 'g1' }),
      ])
    })
    const range = { from: '2026-07-01T00:00:00Z', to: '2026-07-02T00:00:00Z' }

    it('scopes a user token to its own tenant, even when no tenant is asked for', async () => {
      const acme = await h.userToken({ tenantId: 'acme' })
      const mine = await json(`/v1/stats/summary?${q(range)}`, acme)
      expect(mine.body.total).toBe(2)
      const uniques = await json(`/v1/stats/uniques?${q({ ...range, interval: 'day' })}`, acme)
      expect(uniques.body.total).toBe(2)
    })

    it("answers 404 for another tenant's statistics", async () => {
      const acme = await h.userToken({ tenantId: 'acme' })
      for (const path of ['summary', 'timeseries', 'uniques', 'percentiles']) {
        const res = await json(
          // summary takes no interval (an unknown query parameter is refused with 422)
          `/v1/stats/${path}?${q({ ...range, ...(path === 'summary' ? {} : { interval: 'day' }), tenantId: 'globex' })}`,
          acme,
        )
        expect([path, res.status]).toEqual([path, 404])
      }
    })

    it('needs the analytics:read scope and a tenant in a user token', async () => {
      const noScope = await json(
        `/v1/stats/summary?${q(range)}`,
        await h.userToken({ tenantId: 'acme', scope: 'profile' }),
      )
      expect([noScope.status, noScope.body.error?.code]).toEqual([403, 'INSUFFICIENT_SCOPE'])
      const noTenant = await json(`/v1/stats/summary?${q(range)}`, await h.userToken({}))
      expect([noTenant.status, noTenant.body.error?.code]).toEqual([403, 'TENANT_REQUIRED'])
    })

    it('lists only error codes its ERRORS map declares, on every route of its own', async () => {
      const doc = (await (await h.get('/swagger/json')).json()) as Parameters<typeof errorDocProblems>[0]
      expect(errorDocProblems(doc, ERRORS)).toEqual({ undeclared: [], unlisted: [] })
    })

    it('lets a service read every tenant or one', async () => {
      expect((await json(`/v1/stats/summary?${q({ ...range, tenantId: 'globex' })}`)).body.total).toBe(1)
      const all = await json(`/v1/stats/summary?${q(range)}`)
      expect(all.body.total).toBe(3)
      expect(all.body.topSources).toEqual([{ name: 'monolith', count: 3 }])
    })
  })

  describe('summary, uniques and percentiles', () => {
    it('summarises totals per type, top types and top sources over a ragged range', async () => {
      await h.deps.ingest.ingestBatch([
        ...Array.from({ length: 5 }, (_, i) =>
          sampleEvent('a.one', new Date(Date.parse('2026-08-01T10:10:00Z') + i * 86_400_000), {
            tenantId: 'sum',
          }),
        ),
        ...Array.from({ length: 3 }, () =>
          sampleEvent('b.two', '2026-08-02T00:00:00Z', { tenantId: 'sum', source: 'shop' }),
        ),
      ])
      await h.deps.rollups.rollupDirty()
      const { body } = await json(
        `/v1/stats/summary?${q({ tenantId: 'sum', from: '2026-08-01T10:10:00Z', to: '2026-08-05T10:10:00Z' })}`,
      )
      expect(body.types).toEqual([
        { name: 'a.one', count: 4 },
        { name: 'b.two', count: 3 },
      ])
      expect(body.topSources).toEqual([
        { name: 'monolith', count: 4 },
        { name: 'shop', count: 3 },
      ])
      expect(body.total).toBe(7)
    })

    it('reports p50/p95/p99 of payload.durationMs', async () => {
      await h.deps.ingest.ingestBatch(
        Array.from({ length: 100 }, (_, i) =>
          sampleEvent('job.finished', '2026-09-01T10:00:00Z', {
            tenantId: 'dur',
            payload: { durationMs: i + 1 },
          }),
        ),
      )
      const { body } = await json(
        `/v1/stats/percentiles?${q({ tenantId: 'dur', from: '2026-09-01T00:00:00Z', to: '2026-09-02T00:00:00Z' })}`,
      )
      expect(body.count).toBe(100)
      expect(Math.abs((body.p50 as number) - 50)).toBeLessThanOrEqual(1.5)
      expect(Math.abs((body.p99 as number) - 99)).toBeLessThanOrEqual(2)
    })

    it('reports percentiles per bucket when an interval is given', async () => {
      await h.deps.ingest.ingestBatch([
        ...Array.from({ length: 50 }, (_, i) =>
          sampleEvent('job.finished', '2026-09-02T10:00:00Z', {
            tenantId: 'dur2',
            payload: { durationMs: 100 + i },
          }),
        ),
        ...Array.from({ length: 50 }, (_, i) =>
          sampleEvent('job.finished', '2026-09-03T10:00:00Z', {
            tenantId: 'dur2',
            payload: { durationMs: 1000 + i * 10 },
          }),
        ),
      ])
      const { body } = await json(
        `/v1/stats/percentiles?${q({ tenantId: 'dur2', from: '2026-09-02T00:00:00Z', to: '2026-09-05T00:00:00Z', interval: 'day' })}`,
      )
      const points = body.points as { count: number; p50: number | null }[]
      expect(points.map((p) => p.count)).toEqual([50, 50, 0])
      expect(Math.abs((points[0]?.p50 as number) - 125)).toBeLessThanOrEqual(2)
      expect(Math.abs((points[1]?.p50 as number) - 1250)).toBeLessThanOrEqual(15)
      expect(points[2]?.p50).toBeNull()
      expect(body.count).toBe(100)
    })
  })

  describe('granularity and calendar intervals', () => {
    it('reads minute rows for a half-hour zone, whose days start at :30 UTC', async () => {
      // Asia/Kolkata is UTC+5:30: local midnight of June 2nd is 18:30 UTC on June 1st.
      await h.deps.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-06-01T18:29:00Z', { tenantId: 'ist' }),
        sampleEvent('order.placed', '2026-06-01T18:30:00Z', { tenantId: 'ist' }),
        sampleEvent('order.placed', '2026-06-01T18:31:00Z', { tenantId: 'ist' }),
      ])
      await h.deps.rollups.rollupDirty()
      const { body } = await json(
        `/v1/stats/timeseries?${q({ tenantId: 'ist', from: '2026-06-01T00:00:00+05:30', to: '2026-06-03T00:00:00+05:30', interval: 'day', tz: 'Asia/Kolkata' })}`,
      )
      expect(body.granularity).toBe('minute')
      expect((body.points as { local: string; count: number }[]).map((p) => [p.local, p.count])).toEqual([
        ['2026-06-01T00:00', 1],
        ['2026-06-02T00:00', 2],
      ])
    })

    it('starts weeks on the requested day and months on the 1st, in the zone', async () => {
      await h.deps.ingest.ingestBatch([
        sampleEvent('order.placed', '2026-02-28T23:30:00Z', { tenantId: 'cal' }), // Sunday 1 March 00:30 in Paris
        sampleEvent('order.placed', '2026-03-02T10:00:00Z', { tenantId: 'cal' }), // Monday
      ])
      const series = async (interval: string, weekStart?: string) =>
        (
          await json(
            `/v1/stats/timeseries?${q({ tenantId: 'cal', from: '2026-02-23T00:00:00+01:00', to: '2026-03-09T00:00:00+01:00', interval, tz: 'Europe/Paris', ...(weekStart ? { weekStart } : {}) })}`,
          )
        ).body.points as { local: string; count: number }[]
      expect((await series('week')).map((p) => [p.local.slice(0, 10), p.count])).toEqual([
        ['2026-02-23', 1],
        ['2026-03-02', 1],
      ])
      expect((await series('week', 'sunday')).map((p) => [p.local.slice(0, 10), p.count])).toEqual([
        ['2026-02-22', 0],
        ['2026-03-01', 2],
        ['2026-03-08', 0],
      ])
      expect((await series('month')).map((p) => [p.local.slice(0, 10), p.count])).toEqual([
        ['2026-02-01', 0],
        ['2026-03-01', 2],
      ])
    })
  })

  describe('answers over compacted data', () => {
    it('keeps day totals exact and flags minute series as approximate once minutes are compacted', async () => {
      let now = Date.parse('2026-10-01T12:00:00Z')
      const old = await createTestApp({ now: () => now })
      try {
        await old.deps.ingest.ingestBatch(
          Array.from({ length: 30 }, (_, i) =>
            sampleEvent('order.placed', new Date(Date.parse('2026-10-01T10:00:00Z') + i * 120_000)),
          ),
        )
        await old.deps.rollups.rollupDirty()
        now += 30 * 86_400_000
        await old.deps.rollups.retain()
        const token = await old.serviceToken()
        const get = async (interval: string) =>
          (await (
            await old.get(
              `/v1/stats/timeseries?${q({ from: '2026-10-01T10:00:00Z', to: '2026-10-01T11:00:00Z', interval })}`,
              token,
            )
          ).json()) as { total: number; approximate: boolean; points: { count: number }[] }
        const minutes = await get('minute')
        expect([minutes.total, minutes.approximate, minutes.points[0]?.count]).toEqual([30, true, 30])
        const hours = await get('hour')
        expect([hours.total, hours.approximate]).toEqual([30, false])
      } finally {
        await old.close()
      }
    })
  })
})
