import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { errorDocProblems } from '@flotilla/service-kit'
import { ERRORS } from './errors.ts'
import { sampleEvent } from './records/sample.ts'
import { createTestApp, type TestApp } from './testing.ts'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
  await t.ingest([
    sampleEvent('acme', 1),
    sampleEvent('acme', 2),
    sampleEvent('globex', 3),
    sampleEvent(undefined, 4),
  ])
})
afterAll(() => t.close())

const ROUTES = [
  '/v1/audit/events',
  '/v1/audit/export?format=ndjson',
  '/v1/audit/export?format=csv',
  '/v1/audit/verify',
  '/v1/audit/stats?groupBy=type',
  '/v1/audit/stats/counts?groupBy=tenant,type&interval=day',
  '/v1/audit/stats/top-actors',
]
const withTenant = (path: string, tenantId: string) =>
  `${path}${path.includes('?') ? '&' : '?'}tenantId=${tenantId}`

describe('access to every audit route', () => {
  for (const path of ROUTES) {
    it(`${path}: 401 without a token or with a forged one`, async () => {
      const none = await t.get(path)
      expect(none.status).toBe(401)
      expect(await none.json()).toMatchObject({
        error: { code: expect.any(String), message: expect.any(String) },
      })
      const forged = `${(await t.serviceToken()).slice(0, -4)}AAAA`
      expect((await t.get(path, forged)).status).toBe(401)
    })

    it(`${path}: 403 for a user token without the audit:read scope`, async () => {
      const res = await t.get(path, await t.userToken({ tenantId: 'acme', scope: 'profile' }))
      expect(res.status).toBe(403)
      expect(await res.json()).toMatchObject({ error: { code: 'INSUFFICIENT_SCOPE' } })
    })

    it(`${path}: 404 when a user asks for another tenant`, async () => {
      const res = await t.get(withTenant(path, 'globex'), await t.userToken({ tenantId: 'acme' }))
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } })
    })

    it(`${path}: a user reads their own tenant and nothing else`, async () => {
      const res = await t.get(path, await t.userToken({ tenantId: 'acme' }))
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).toContain('acme')
      expect(text).not.toContain('globex')
    })
  }

  it('lets a service read any tenant, or all of them', async () => {
    const token = await t.serviceToken()
    const all = (await (await t.get('/v1/audit/events', token)).json()) as {
      items: { tenantId: string | null }[]
    }
    expect(new Set(all.items.map((r) => r.tenantId))).toEqual(new Set(['acme', 'globex', null]))
    const globex = (await (await t.get('/v1/audit/events?tenantId=globex', token)).json()) as {
      items: unknown[]
    }
    expect(globex.items).toHaveLength(1)
  })

  it('refuses a user token that names no tenant', async () => {
    const res = await t.get('/v1/audit/events', await t.userToken({}))
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { code: 'TENANT_REQUIRED' } })
  })
})

describe('service basics', () => {
  it('documents every audit route in the OpenAPI document', async () => {
    const doc = (await (await t.get('/swagger/json')).json()) as {
      paths: Record<string, { get?: { summary?: string } }>
    }
    for (const path of ['/v1/audit/events', '/v1/audit/export', '/v1/audit/verify', '/v1/audit/stats']) {
      expect(doc.paths[path]?.get?.summary).toBeString()
    }
  })

  it('lists only error codes its ERRORS map declares, on every route of its own', async () => {
    const doc = (await (await t.get('/swagger/json')).json()) as Parameters<typeof errorDocProblems>[0]
    expect(errorDocProblems(doc, ERRORS)).toEqual({ undeclared: [], unlisted: [] })
  })

  it('serves the dead-letter inspector of the audit group to services only', async () => {
    const res = await t.get('/v1/dead-letters', await t.serviceToken())
    expect(res.status).toBe(200)
    expect((await t.get('/v1/dead-letters', await t.userToken({ tenantId: 'acme' }))).status).toBe(401)
  })

  it('answers /health and exposes its counters on /metrics', async () => {
    expect((await t.get('/health')).status).toBe(200)
    const metrics = await (await t.get('/metrics')).text()
    expect(metrics).toContain('audit_records_appended_total')
    // The exports above (users of acme: 2 records each) were counted when their last page went out.
    expect(metrics).toMatch(/^audit_exported_records_total\{[^}]*\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^audit_verifications_total\{[^}]*result="ok"[^}]*\} [1-9]\d*$/m)
  })
})
