import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { AttackToken } from '@flotilla/service-kit'
import { SignJWT } from 'jose'
import type { TokenPair } from '../sessions/model.ts'
import { attackTokensOn, createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
let service: string
let session: TokenPair
let attacks: AttackToken[]

beforeAll(async () => {
  t = await createTestApp()
  service = await t.serviceToken()
  const res = await t.request('POST', '/v1/sessions', {
    token: service,
    body: { userId: 'u1', tenantId: 't1', scopes: ['profile', 'orders:read'], device: { id: 'd1' } },
  })
  session = (await res.json()) as TokenPair
  attacks = await attackTokensOn(t.core, {
    sub: 'u1',
    sid: session.sessionId,
    jti: crypto.randomUUID(),
    scope: 'profile',
  })
})
afterAll(async () => {
  await t.close()
})

const introspect = async (token: string) => {
  const res = await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('POST /v1/tokens/introspect', () => {
  it('answers active with the RFC 7662 fields for a live session’s token', async () => {
    const { status, body } = await introspect(session.accessToken)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      active: true,
      token_type: 'access_token',
      sub: 'u1',
      sid: session.sessionId,
      tenantId: 't1',
      deviceId: 'd1',
      scope: 'profile orders:read',
      iss: 'flotilla-auth',
      aud: 'flotilla',
    })
    expect(typeof body.exp).toBe('number')
    expect(typeof body.iat).toBe('number')
  })

  it('accepts an application/x-www-form-urlencoded body (RFC 7662)', async () => {
    const res = await t.app.handle(
      new Request('http://auth.test/v1/tokens/introspect', {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: session.accessToken, token_type_hint: 'access_token' }),
      }),
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as { active: boolean }).active).toBe(true)
  })

  it('answers { active: false } for every JWT attack, never an error', async () => {
    expect(attacks.length).toBeGreaterThan(40)
    const wrong: string[] = []
    for (const attack of attacks) {
      if (attack.token.length > 10_000) continue // over the body schema's limit: a 422, checked below
      const { status, body } = await introspect(attack.token)
      if (status !== 200 || body.active !== false || Object.keys(body).length !== 1)
        wrong.push(`${attack.name}: ${status}`)
    }
    expect(wrong).toEqual([])
  })

  it('answers 422, not 500, for a token longer than the body limit allows', async () => {
    const res = await t.request('POST', '/v1/tokens/introspect', {
      token: service,
      body: { token: 'a'.repeat(12_000) },
    })
    expect(res.status).toBe(422)
  })

  it('answers inactive for a refresh token presented as an access token', async () => {
    expect((await introspect(session.refreshToken)).body).toEqual({ active: false })
  })

  it('answers inactive at once when the session is revoked', async () => {
    const other = (await (
      await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u9' } })
    ).json()) as TokenPair
    expect((await introspect(other.accessToken)).body.active).toBe(true)
    await t.request('DELETE', `/v1/sessions/${other.sessionId}`, { token: service })
    expect((await introspect(other.accessToken)).body).toEqual({ active: false })
  })

  it('refuses callers without a service token addressed to auth', async () => {
    const noToken = await t.request('POST', '/v1/tokens/introspect', { body: { token: session.accessToken } })
    expect(noToken.status).toBe(401)
    const wrongAudience = await t.request('POST', '/v1/tokens/introspect', {
      token: await t.serviceToken('audit'),
      body: { token: session.accessToken },
    })
    expect(wrongAudience.status).toBe(401)
    const userToken = await t.request('POST', '/v1/tokens/introspect', {
      token: session.accessToken,
      body: { token: session.accessToken },
    })
    expect(userToken.status).toBe(401)
  })
})

describe('user routes with a forged or broken bearer token', () => {
  it('answer 401 for every JWT attack, never 500', async () => {
    const wrong: string[] = []
    for (const attack of attacks) {
      if (attack.token.length === 0) continue
      const res = await t.request('GET', '/v1/users/u1/sessions', { token: attack.token })
      const body = (await res.json()) as { error?: { code: string } }
      if (res.status !== 401 || body.error?.code !== 'INVALID_TOKEN')
        wrong.push(`${attack.name}: ${res.status}`)
    }
    expect(wrong).toEqual([])
  })

  it('answer 401 for the access token of a revoked session', async () => {
    const s = (await (
      await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1' } })
    ).json()) as TokenPair
    expect((await t.request('GET', '/v1/users/u1/sessions', { token: s.accessToken })).status).toBe(200)
    await t.request('DELETE', `/v1/sessions/${s.sessionId}`, { token: s.accessToken })
    expect((await t.request('GET', '/v1/users/u1/sessions', { token: s.accessToken })).status).toBe(401)
  })

  it('answer 401 for a token signed by a key that is not in the ring but carries its kid format', async () => {
    const key = await t.core.keyRing.signingKey()
    const { generateKeyPair } = await import('jose')
    const rogue = await generateKeyPair('EdDSA')
    const forged = await new SignJWT({ sid: session.sessionId, scope: '' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: `${key.kid}x` })
      .setIssuer('flotilla-auth')
      .setAudience('flotilla')
      .setSubject('u1')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rogue.privateKey)
    expect((await t.request('GET', '/v1/users/u1/sessions', { token: forged })).status).toBe(401)
  })
})
