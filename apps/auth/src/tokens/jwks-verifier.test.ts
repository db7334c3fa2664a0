import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { TokenError } from '@flotilla/contracts'
import { createAccessTokenVerifier } from '@flotilla/service-kit'
import type { TokenPair } from '../sessions/model.ts'
import { attackTokensOn, createTestApp, type TestApp } from '../testing.ts'

// Another app's view: the kit's verifier pointed at this service's JWKS over real HTTP.
let t: TestApp
let server: ReturnType<typeof Bun.serve>
let jwksUrl: string
let session: TokenPair

beforeAll(async () => {
  t = await createTestApp()
  server = Bun.serve({ port: 0, fetch: (request) => t.app.handle(request) })
  jwksUrl = `http://127.0.0.1:${server.port}/.well-known/jwks.json`
  const service = await t.serviceToken()
  const res = await t.request('POST', '/v1/sessions', {
    token: service,
    body: { userId: 'u1', scopes: ['a', 'b'] },
  })
  session = (await res.json()) as TokenPair
})
afterAll(async () => {
  server.stop(true)
  await t.close()
})

const refused = async (promise: Promise<unknown>) => {
  try {
    await promise
    return false
  } catch (error) {
    return error instanceof TokenError && error.status === 401
  }
}

describe('the kit JWKS verifier against the auth service', () => {
  it('accepts the access tokens auth issues, with the documented claims', async () => {
    const verifier = createAccessTokenVerifier({ jwksUrl })
    const user = await verifier.verify(session.accessToken)
    expect(user).toMatchObject({
      kind: 'user',
      userId: 'u1',
      sessionId: session.sessionId,
      scopes: ['a', 'b'],
    })
    expect(Object.keys(user.claims).sort()).toEqual([
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sid',
      'sub',
    ])
  })

  it('refuses every JWT attack built on the service’s real signing key', async () => {
    const attacks = await attackTokensOn(t.core, { sub: 'u1', sid: session.sessionId, jti: 'j1', scope: 'a' })
    const verifier = createAccessTokenVerifier({ jwksUrl })
    const accepted: string[] = []
    for (const attack of attacks)
      if (!(await refused(verifier.verify(attack.token)))) accepted.push(attack.name)
    expect(accepted).toEqual([])
  })

  it('follows a key rotation: new tokens verify after one refetch, old tokens keep verifying', async () => {
    const verifier = createAccessTokenVerifier({ jwksUrl, jwksCooldownMs: 0 })
    await verifier.verify(session.accessToken)
    await t.core.keyRing.rotateNow()
    await Bun.sleep(2)
    const rotated = (await (
      await t.request('POST', '/v1/sessions/refresh', { body: { refreshToken: session.refreshToken } })
    ).json()) as TokenPair
    const newKid = JSON.parse(
      Buffer.from(rotated.accessToken.split('.')[0] ?? '', 'base64url').toString(),
    ).kid
    const oldKid = JSON.parse(
      Buffer.from(session.accessToken.split('.')[0] ?? '', 'base64url').toString(),
    ).kid
    expect(newKid).not.toBe(oldKid)
    expect((await verifier.verify(rotated.accessToken)).userId).toBe('u1')
    expect((await verifier.verify(session.accessToken)).userId).toBe('u1')
  })
})
