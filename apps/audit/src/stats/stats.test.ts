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
