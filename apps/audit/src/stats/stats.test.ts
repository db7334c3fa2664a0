import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createCustomEvent } from '@flotilla/contracts'
import { createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
let token: string
const at = (day: number) => new Date(Date.UTC(2026, 1, day)).toISOString()
const ev = (type: string, day: number, source: string, actor?: string, tenantId = 'st') =>
  createCustomEvent(
    type,
    {},
    { source, tenantId, occurredAt: at(day), ...(actor ? { actor: { type: 'user', id: actor } } : {}) },
  )

beforeAll(async () => {
  t = await createTestApp()
  token = await t.serviceToken()
  await t.ingest([
    ev('user.registered', 1, 'monolith', 'a'),
    ev('user.registered', 2, 'monolith', 'b'),
    ev('order.placed', 3, 'shop', 'a'),
    ev('order.placed', 4, 'shop'),
    ev('order.placed', 4, 'shop', 'z', 'elsewhere'),
  ])
})
afterAll(() => t.close())

const stats = async (query: string, auth = token) => {
  const res = await t.get(`/v1/audit/stats?${query}`, auth)
  expect(res.status).toBe(200)
  return (await res.json()) as { total: number; groups: { key: string; count: number }[] }
}

describe('GET /v1/audit/stats', () => {
  it('counts by type, by actor and by source within a tenant', async () => {
    expect(await stats('groupBy=type&tenantId=st')).toMatchObject({
      total: 4,
      groups: [
        { key: 'order.placed', count: 2 },
        { key: 'user.registered', count: 2 },
      ],
    })
    expect((await stats('groupBy=actor&tenantId=st')).groups).toEqual([
      { key: 'user:a', count: 2 },
      { key: '(none)', count: 1 },
      { key: 'user:b', count: 1 },
    ])
    expect((await stats('groupBy=source&tenantId=st')).groups).toEqual([
      { key: 'monolith', count: 2 },
      { key: 'shop', count: 2 },
    ])
  })

  it('restricts counts to a time range', async () => {
    const body = await stats(`groupBy=type&tenantId=st&from=${at(2)}&to=${at(4)}`)
    expect(body).toMatchObject({ total: 2, from: at(2), to: at(4) })
  })

  it("counts only the user's own tenant", async () => {
    const body = await stats('groupBy=type', await t.userToken({ tenantId: 'st' }))
    expect(body.total).toBe(4)
    expect((await stats('groupBy=type')).total).toBe(5)
  })

  it('refuses an unknown grouping', async () => {
    expect((await t.get('/v1/audit/stats?groupBy=tenant', token)).status).toBe(422)
  })
})

describe('GET /v1/audit/stats/counts', () => {
  const counts = async (query: string, auth = token) => {
    const res = await t.get(`/v1/audit/stats/counts?${query}`, auth)
    expect(res.status).toBe(200)
    return (await res.json()) as {
      truncated: boolean
      rows: Record<string, string | number>[]
      groupBy: string[]
      interval: string | null
    }
  }

  it('counts per day by type and actor within a tenant, each row naming its bucket and keys', async () => {
    const body = await counts('groupBy=type,actor&interval=day&tenantId=st')
    expect(body).toMatchObject({ groupBy: ['type', 'actor'], interval: 'day', truncated: false })
    expect(body.rows).toEqual([
      { bucket: at(1), type: 'user.registered', actor: 'user:a', count: 1 },
      { bucket: at(2), type: 'user.registered', actor: 'user:b', count: 1 },
      { bucket: at(3), type: 'order.placed', actor: 'user:a', count: 1 },
      { bucket: at(4), type: 'order.placed', actor: '(none)', count: 1 },
    ])
  })

  it('counts by tenant over a range across tenants for a service, and one total without groupBy', async () => {
    expect((await counts(`groupBy=tenant&from=${at(4)}&to=${at(5)}`)).rows).toEqual([
      { tenant: 'elsewhere', count: 1 },
      { tenant: 'st', count: 1 },
    ])
    expect((await counts('tenantId=st')).rows).toEqual([{ count: 4 }])
  })

  it('keeps a user to their own tenant and says when the limit cut the answer', async () => {
    const user = await t.userToken({ tenantId: 'st' })
    expect((await counts('groupBy=tenant', user)).rows).toEqual([{ tenant: 'st', count: 4 }])
    const cut = await counts('groupBy=type&interval=hour&limit=2')
    expect(cut.truncated).toBe(true)
    expect(cut.rows).toHaveLength(2)
  })

  it('refuses a dimension named twice (400), an unknown one (422) and a bad range (400)', async () => {
    const twice = await t.get('/v1/audit/stats/counts?groupBy=type,type', token)
    expect(twice.status).toBe(400)
    expect(await twice.json()).toMatchObject({ error: { code: 'INVALID_GROUP_BY' } })
    expect((await t.get('/v1/audit/stats/counts?groupBy=payload', token)).status).toBe(422)
    expect((await t.get('/v1/audit/stats/counts?interval=week', token)).status).toBe(422)
    const range = await t.get(`/v1/audit/stats/counts?from=${at(4)}&to=${at(2)}`, token)
    expect(range.status).toBe(400)
    expect(await range.json()).toMatchObject({ error: { code: 'INVALID_RANGE' } })
  })
})

describe('GET /v1/audit/stats/top-actors', () => {
  it("ranks actors by their records, within the caller's tenant and the filters", async () => {
    const res = await t.get('/v1/audit/stats/top-actors?tenantId=st', token)
    expect(res.status).toBe(200)
    expect((await res.json()).actors).toEqual([
      { actor: 'user:a', actorType: 'user', actorId: 'a', count: 2 },
      { actor: 'user:b', actorType: 'user', actorId: 'b', count: 1 },
    ])
    const all = await (await t.get('/v1/audit/stats/top-actors?limit=1', token)).json()
    expect(all.actors).toEqual([{ actor: 'user:a', actorType: 'user', actorId: 'a', count: 2 }])
    const user = await t.get('/v1/audit/stats/top-actors?type=order.*', await t.userToken({ tenantId: 'st' }))
    expect((await user.json()).actors).toEqual([
      { actor: 'user:a', actorType: 'user', actorId: 'a', count: 1 },
    ])
    expect((await t.get('/v1/audit/stats/top-actors?limit=101', token)).status).toBe(422)
  })
})
