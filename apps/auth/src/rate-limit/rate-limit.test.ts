import { afterEach, describe, expect, it } from 'bun:test'
import type { TokenPair } from '../sessions/model.ts'
import { hashRefreshToken } from '../sessions/refresh-token.ts'
import { createTestApp, type TestApp, testSettings } from '../testing.ts'

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const limits = (overrides: Partial<ReturnType<typeof testSettings>['rateLimits']>) => ({
  rateLimits: { ...testSettings().rateLimits, ...overrides },
})
const window = 60

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a client ip spends its refresh budget', async () => {
    t = await createTestApp(limits({ 'refresh:ip': { points: 3, windowSeconds: window } }), {
      trustedProxyHeader: 'x-forwarded-for',
    })
    const app = t
    const from = (ip: string) =>
      app.request('POST', '/v1/sessions/refresh', {
        body: { refreshToken: 'nope' },
        headers: { 'x-forwarded-for': `10.0.0.9, ${ip}` },
      })
    for (let i = 0; i < 3; i++) expect((await from('198.51.100.1')).status).toBe(401)
    const limited = await from('198.51.100.1')
    expect(limited.status).toBe(429)
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(window)
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    // Another client (the last x-forwarded-for entry, set by the trusted proxy) has its own budget.
    expect((await from('198.51.100.2')).status).toBe(401)
  })

  it('limits refreshes per user across ips', async () => {
    t = await createTestApp(limits({ 'refresh:user': { points: 2, windowSeconds: window } }), {
      trustedProxyHeader: 'fly-client-ip',
    })
    const service = await t.serviceToken()
    let pair = (await (
      await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1' } })
    ).json()) as TokenPair
    for (let i = 0; i < 2; i++) {
      const res = await t.request('POST', '/v1/sessions/refresh', {
        body: { refreshToken: pair.refreshToken },
        headers: { 'fly-client-ip': `203.0.113.${i}` },
      })
      expect(res.status).toBe(200)
      pair = (await res.json()) as TokenPair
    }
    const limited = await t.request('POST', '/v1/sessions/refresh', {
      body: { refreshToken: pair.refreshToken },
      headers: { 'fly-client-ip': '203.0.113.99' },
    })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).not.toBeNull()
    // The refused request did not spend the token.
    const current = await t.core.redis.hget(
      `${t.core.settings.redisPrefix}s:{${pair.sessionId}}`,
      'currentHash',
    )
    expect(current).toBe(hashRefreshToken(pair.refreshToken))
    // Made-up tokens naming the session never count against its user.
    const app = t
    const guesses = Array.from({ length: 3 }, () =>
      app.request('POST', '/v1/sessions/refresh', {
        body: { refreshToken: `${pair.sessionId}.${'A'.repeat(43)}` },
      }),
    )
    for (const res of await Promise.all(guesses)) expect(res.status).toBe(401)
  })

  it('limits introspection per user once the token verifies', async () => {
    t = await createTestApp(limits({ 'introspect:user': { points: 2, windowSeconds: window } }))
    const service = await t.serviceToken()
    const pair = (await (
      await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1' } })
    ).json()) as TokenPair
    const introspect = (token: string) =>
      t?.request('POST', '/v1/tokens/introspect', { token: service, body: { token } })
    expect((await introspect(pair.accessToken))?.status).toBe(200)
    expect((await introspect(pair.accessToken))?.status).toBe(200)
    const limited = await introspect(pair.accessToken)
    expect(limited?.status).toBe(429)
    expect(limited?.headers.get('retry-after')).not.toBeNull()
    // Forged tokens naming the same user do not count against that user: same header and claims, bad signature.
    const [header, claims, signature = ''] = pair.accessToken.split('.')
    const forged = `${header}.${claims}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    const refused = await introspect(forged)
    expect(refused?.status).toBe(200)
    expect(await refused?.json()).toEqual({ active: false })
    expect((await introspect('garbage'))?.status).toBe(200)
  })

  it('limits introspection per client ip', async () => {
    t = await createTestApp(limits({ 'introspect:ip': { points: 1, windowSeconds: window } }))
    const service = await t.serviceToken()
    const first = await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token: 'x' } })
    expect(first.status).toBe(200)
    const second = await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token: 'x' } })
    expect(second.status).toBe(429)
  })
})
