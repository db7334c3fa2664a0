import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import { errorDocProblems } from '@flotilla/service-kit'
import { ERRORS } from './errors.ts'
import type { AuthApp } from './index.ts'
import { createTestApp, type TestApp } from './testing.ts'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

describe('the monolith’s login flow through the Eden treaty client', () => {
  it('signs in, refreshes, checks a token and signs out with typed calls', async () => {
    const auth = treaty<AuthApp>(t.app)
    const service = { headers: { authorization: `Bearer ${await t.serviceToken()}` } }

    const created = await auth.v1.sessions.post(
      { userId: 'u42', scopes: ['profile'], device: { id: 'web-1', name: 'Firefox', ip: '203.0.113.7' } },
      service,
    )
    expect(created.status).toBe(201)
    if (!created.data) throw new Error(`sign-in failed: ${JSON.stringify(created.error)}`)
    expect(created.data.device).toEqual({ id: 'web-1', isNew: true })

    const refreshed = await auth.v1.sessions.refresh.post({ refreshToken: created.data.refreshToken })
    if (!refreshed.data) throw new Error('refresh failed')
    expect(refreshed.data.sessionId).toBe(created.data.sessionId)

    const check = await auth.v1.tokens.introspect.post({ token: refreshed.data.accessToken }, service)
    expect(check.data).toMatchObject({ active: true, sub: 'u42' })

    const user = { headers: { authorization: `Bearer ${refreshed.data.accessToken}` } }
    const mine = await auth.v1.users({ userId: 'u42' }).sessions.get({ query: {}, ...user })
    expect(mine.data?.items.map((s) => s.current)).toEqual([true])

    const other = await auth.v1.sessions.post({ userId: 'u42' }, service)
    const others = await auth.v1
      .users({ userId: 'u42' })
      .sessions.delete(undefined, { query: { except: created.data.sessionId }, ...user })
    expect(others.data).toEqual({ revoked: 1 })
    expect(
      (await auth.v1.tokens.introspect.post({ token: other.data?.accessToken ?? '' }, service)).data,
    ).toEqual({
      active: false,
    })

    const out = await auth.v1.sessions({ sessionId: created.data.sessionId }).delete(undefined, user)
    expect(out.data).toEqual({ revoked: 1 })
    const after = await auth.v1.tokens.introspect.post({ token: refreshed.data.accessToken }, service)
    expect(after.data).toEqual({ active: false })

    const reused = await auth.v1.sessions.refresh.post({ refreshToken: created.data.refreshToken })
    expect(reused.status).toBe(401)
  })
})

describe('operations and documentation', () => {
  it('serves the probes, metrics and the JWKS without authentication', async () => {
    expect((await t.request('GET', '/health')).status).toBe(200)
    const metrics = await t.request('GET', '/metrics')
    expect(metrics.status).toBe(200)
    const text = await metrics.text()
    // The Eden flow above created, rotated, revoked and had a reuse refused.
    expect(text).toContain('auth_sessions_created_total')
    expect(text).toMatch(/auth_refresh_total\{[^}]*outcome="rotated"[^}]*\} 1/)
    expect(text).toMatch(/auth_sessions_revoked_total\{[^}]*reason="logout"[^}]*\} 1/)
    expect(text).toMatch(/auth_introspections_total\{[^}]*active="false"[^}]*\} 2/)
    expect(text).toMatch(/auth_sessions_revoked_total\{[^}]*reason="signed_out_everywhere"[^}]*\} 1/)
    const jwks = await t.request('GET', '/.well-known/jwks.json')
    expect(jwks.headers.get('cache-control')).toContain('max-age')
    expect(await jwks.json()).toEqual(await (await t.request('GET', '/v1/jwks')).json())
  })

  it('lists only error codes its ERRORS map declares, on every route of its own', async () => {
    const doc = (await (await t.request('GET', '/swagger/json')).json()) as Parameters<
      typeof errorDocProblems
    >[0]
    expect(errorDocProblems(doc, ERRORS, { except: ['/v1/jwks'] })).toEqual({ undeclared: [], unlisted: [] })
  })

  it('documents every route with a summary, a tag and its error responses', async () => {
    const doc = (await (await t.request('GET', '/swagger/json')).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            summary?: string
            tags?: string[]
            responses?: Record<string, unknown>
            requestBody?: { content?: Record<string, unknown> }
          }
        >
      >
    }
    const expected = [
      ['post', '/v1/sessions'],
      ['post', '/v1/sessions/refresh'],
      ['delete', '/v1/sessions/{sessionId}'],
      ['get', '/v1/users/{userId}/sessions'],
      ['delete', '/v1/users/{userId}/sessions'],
      ['get', '/v1/users/{userId}/devices'],
      ['delete', '/v1/users/{userId}/devices/{deviceId}'],
      ['post', '/v1/tokens/introspect'],
      ['get', '/v1/jwks'],
      ['post', '/v1/keys/rotate'],
    ] as const
    for (const [method, path] of expected) {
      const op = doc.paths[path]?.[method]
      expect(op?.summary, `${method} ${path}`).toBeTruthy()
      expect(op?.tags?.length, `${method} ${path}`).toBeGreaterThan(0)
      if (path !== '/v1/jwks') expect(Object.keys(op?.responses ?? {}), `${method} ${path}`).toContain('401')
      if (method === 'post')
        expect(Object.keys(op?.requestBody?.content ?? {}), `${method} ${path}`).toContain('application/json')
    }
    const ui = await t.request('GET', '/swagger')
    expect(ui.status).toBe(200)
    expect(await ui.text()).not.toContain('unpkg.com')
  })
})
