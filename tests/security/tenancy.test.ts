/** Another tenant's or another user's data on every read route → 404, whatever the route (read from OpenAPI). */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createCustomEvent } from '@flotilla/contracts'
import { routesOf } from './lib/routes.ts'
import {
  analyticsTarget,
  auditTarget,
  authTarget,
  serviceToken,
  type Target,
  userToken,
} from './lib/targets.ts'

let auth: Awaited<ReturnType<typeof authTarget>>
let audit: Awaited<ReturnType<typeof auditTarget>>
let analytics: Target

beforeAll(async () => {
  auth = await authTarget()
  audit = await auditTarget()
  analytics = await analyticsTarget()
  // Data of both tenants, so a leak would have something to show.
  await audit.ingest(
    ['t_mine', 't_other'].flatMap((tenantId) =>
      Array.from({ length: 3 }, () =>
        createCustomEvent(
          'order.placed',
          { total: 1 },
          { source: 'monolith', tenantId, actor: { type: 'user', id: `u_${tenantId}` } },
        ),
      ),
    ),
  )
}, 60_000)
afterAll(async () => {
  await auth?.close()
  await audit?.close()
  await analytics?.close()
})

const call = (t: Target, method: string, url: string, token: string) =>
  t.handle(new Request(`http://localhost${url}`, { method, headers: { authorization: `Bearer ${token}` } }))

describe.each([
  ['audit', () => audit],
  ['analytics', () => analytics],
] as const)('%s', (_, target) => {
  it('answers 404 to a user token asking for another tenant on every route that takes a tenant', async () => {
    const t = target()
    const token = await userToken(t, { tenantId: 't_mine' })
    const routes = (await routesOf(t)).filter((r) => r.protected && r.query.includes('tenantId'))
    expect(routes.length).toBeGreaterThan(0)
    const wrong: string[] = []
    for (const route of routes) {
      const search = new URLSearchParams(route.search)
      search.set('tenantId', 't_other')
      const response = await call(t, route.method, `${route.path}?${search}`, token)
      if (response.status !== 404)
        wrong.push(`${route.method} ${route.template}?tenantId=t_other: ${response.status}`)
      // The same request for the caller's own tenant is answered (the 404 is about the tenant, not the route).
      search.set('tenantId', 't_mine')
      const own = await call(t, route.method, `${route.path}?${search}`, token)
      if (own.status === 404 || own.status >= 500)
        wrong.push(`${route.method} ${route.template}?tenantId=t_mine: ${own.status}`)
    }
    expect(wrong).toEqual([])
  })
})

describe('audit', () => {
  it("lists only the caller's tenant when a user token names none", async () => {
    const response = await call(
      audit,
      'GET',
      '/v1/audit/events?limit=100',
      await userToken(audit, { tenantId: 't_mine' }),
    )
    expect(response.status).toBe(200)
    const { items } = (await response.json()) as { items: { tenantId?: string }[] }
    expect(items.length).toBe(3)
    expect(items.every((r) => r.tenantId === 't_mine')).toBe(true)
  })
})

describe('auth', () => {
  const session = async (userId: string) => {
    const created = await auth.fixture.request('POST', '/v1/sessions', {
      token: await auth.fixture.serviceToken(),
      body: { userId, device: { id: `dev-${userId}` } },
    })
    return (await created.json()) as { sessionId: string; accessToken: string }
  }

  it("answers 404 to a user token on every route of another user's sessions and devices", async () => {
    const mine = await session('u_mine')
    await session('u_other')
    const routes = (await routesOf(auth)).filter((r) => r.protected && r.params.includes('userId'))
    expect(routes.length).toBeGreaterThan(0)
    const wrong: string[] = []
    for (const route of routes) {
      const path = route.template.replace('{userId}', 'u_other').replace('{deviceId}', 'dev-u_other')
      const response = await call(auth, route.method, path, mine.accessToken)
      if (response.status !== 404) wrong.push(`${route.method} ${path}: ${response.status}`)
    }
    expect(wrong).toEqual([])
    // Still there: nothing was revoked by the refused calls.
    const list = await call(auth, 'GET', '/v1/users/u_other/sessions', await serviceToken(auth))
    expect(((await list.json()) as { items: unknown[] }).items.length).toBe(1)
  })

  it("answers 404 to a user token revoking another user's session by id", async () => {
    const mine = await session('u_mine2')
    const theirs = await session('u_other2')
    const response = await call(auth, 'DELETE', `/v1/sessions/${theirs.sessionId}`, mine.accessToken)
    expect(response.status).toBe(404)
    const list = await call(auth, 'GET', '/v1/users/u_other2/sessions', theirs.accessToken)
    expect(list.status).toBe(200)
  })
})
