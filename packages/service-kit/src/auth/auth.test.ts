import { beforeAll, describe, expect, it } from 'bun:test'
import { createServiceTokenSigner, createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import { Elysia, t } from 'elysia'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { createAccessTokenVerifier } from '../access-token/index.ts'
import { createTestServiceApp, req } from '../test-fixtures.ts'
import { callerAuth, serviceAuth } from './plugins.ts'

const SECRET = 'auth-plugin-test-secret-0123456789abcdef'
const ring = parseKeyRing(SECRET)
const kid = ring.currentKid
const serviceVerifier = createServiceTokenVerifier(ring, { audience: 'audit' })
const signer = createServiceTokenSigner(ring, 'notifications')
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

const serviceClaims = (overrides: Record<string, unknown> = {}) => ({
  iss: 'notifications',
  sub: 'notifications',
  aud: 'audit',
  iat: now(),
  nbf: now(),
  exp: now() + 60,
  jti: crypto.randomUUID(),
  ...overrides,
})
const hs256 = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'service+jwt', kid, ...header })
    .sign(ring.keys.get(kid)!)

let userKey: CryptoKey
let jwk: JWK
beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  userKey = pair.privateKey
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'user-key-1', alg: 'EdDSA', use: 'sig' }
})
const userToken = (claims: Record<string, unknown> = {}) =>
  new SignJWT({
    iss: 'flotilla-auth',
    aud: 'flotilla',
    sub: 'user-1',
    jti: crypto.randomUUID(),
    iat: now(),
    exp: now() + 300,
    sid: 'session-1',
    scope: 'audit:read profile',
    tid: 'tenant-a',
    did: 'device-1',
    ...claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'user-key-1' })
    .sign(userKey)

const call = async (app: { handle(r: Request): Promise<Response> }, path: string, token?: string) => {
  const response = await app.handle(req(path, token ? { headers: { authorization: `Bearer ${token}` } } : {}))
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { error?: { code: string } },
  }
}

describe('serviceAuth', () => {
  const { app } = createTestServiceApp({ name: 'audit' })
  app.use(
    new Elysia().use(serviceAuth({ verifier: serviceVerifier })).get('/v1/private', ({ caller }) => caller),
  )
  app.get('/v1/public', () => ({ open: true }))

  it('derives the calling service from a valid token', async () => {
    expect(await call(app, '/v1/private', await signer.sign({ audience: 'audit' }))).toEqual({
      status: 200,
      body: { kind: 'service', service: 'notifications' },
    })
  })

  it('guards only the routes of the instance that uses it', async () => {
    expect((await call(app, '/v1/public')).status).toBe(200)
  })

  const refusals: [string, () => Promise<string | undefined>][] = [
    ['a missing token', async () => undefined],
    ['a token for another audience', () => signer.sign({ audience: 'analytics' })],
    [
      'an expired token',
      () => hs256(serviceClaims({ iat: now() - 600, nbf: now() - 600, exp: now() - 300 })),
    ],
    ['a token without exp', () => hs256(serviceClaims({ exp: undefined }))],
    [
      'an alg none token',
      async () => `${b64({ alg: 'none', typ: 'service+jwt', kid })}.${b64(serviceClaims())}.`,
    ],
    [
      'an alg NONE token with a signature',
      async () => `${b64({ alg: 'NONE', typ: 'service+jwt', kid })}.${b64(serviceClaims())}.c2ln`,
    ],
    [
      'a token signed with another key',
      () =>
        new SignJWT(serviceClaims())
          .setProtectedHeader({ alg: 'HS256', typ: 'service+jwt', kid })
          .sign(new TextEncoder().encode('x'.repeat(40))),
    ],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await signer.sign({ audience: 'audit' })).split('.')
        return `${h}.${b64(serviceClaims({ iss: 'auth', sub: 'auth' }))}.${s}`
      },
    ],
    ['garbage', async () => 'not-a-jwt'],
    ['a user access token', () => userToken()],
  ]
  for (const [name, make] of refusals) {
    it(`refuses ${name} with 401 INVALID_TOKEN`, async () => {
      const { status, body } = await call(app, '/v1/private', await make())
      expect(status).toBe(401)
      expect(body.error?.code).toBe('INVALID_TOKEN')
    })
  }
})

describe('callerAuth', () => {
  const build = (requiredScope?: string) => {
    const { app } = createTestServiceApp({ name: 'audit' })
    const accessTokenVerifier = createAccessTokenVerifier({ jwks: { keys: [jwk] } })
    return app.use(
      new Elysia()
        .use(
          callerAuth({ serviceVerifier, accessTokenVerifier, ...(requiredScope ? { requiredScope } : {}) }),
        )
        .get('/v1/records', ({ caller }) => caller),
    )
  }

  it('accepts a service token as a service caller', async () => {
    expect(
      (await call(build('audit:read'), '/v1/records', await signer.sign({ audience: 'audit' }))).body,
    ).toEqual({
      kind: 'service',
      service: 'notifications',
    })
  })

  it('accepts a user access token carrying the scope as a user caller', async () => {
    const { status, body } = await call(build('audit:read'), '/v1/records', await userToken())
    expect(status).toBe(200)
    expect(body).toEqual({
      kind: 'user',
      userId: 'user-1',
      tenantId: 'tenant-a',
      scopes: ['audit:read', 'profile'],
      sessionId: 'session-1',
      deviceId: 'device-1',
    })
  })

  it('refuses a user token without the scope with 403 INSUFFICIENT_SCOPE', async () => {
    const { status, body } = await call(
      build('audit:read'),
      '/v1/records',
      await userToken({ scope: 'profile' }),
    )
    expect(status).toBe(403)
    expect(body.error?.code).toBe('INSUFFICIENT_SCOPE')
  })

  it('refuses a service token claiming to be an access token (typ only picks the verifier)', async () => {
    const forged = await hs256(serviceClaims(), { typ: 'at+jwt' })
    expect((await call(build(), '/v1/records', forged)).status).toBe(401)
  })

  it('refuses tokens of any other type, and a missing token, with 401', async () => {
    expect((await call(build(), '/v1/records', await hs256(serviceClaims(), { typ: 'JWT' }))).status).toBe(
      401,
    )
    expect((await call(build(), '/v1/records')).status).toBe(401)
  })

  it('refuses an expired user access token with 401', async () => {
    const expired = await userToken({ exp: now() - 120, iat: now() - 600 })
    expect((await call(build(), '/v1/records', expired)).status).toBe(401)
  })
})

describe('guard order', () => {
  it('answers 401 to a caller without a valid token before it validates the request (no 422 with schema details)', async () => {
    const { app } = createTestServiceApp()
    const routes = app.use(
      new Elysia()
        .use(serviceAuth({ verifier: serviceVerifier }))
        .get('/v1/things', ({ query }) => query, { query: t.Object({ limit: t.Integer({ maximum: 10 }) }) }),
    )
    const anonymous = await routes.handle(req('/v1/things?limit=999&unknown=1'))
    expect(anonymous.status).toBe(401)
    const token = await signer.sign({ audience: 'audit' })
    const invalid = await routes.handle(
      req('/v1/things?limit=999', { headers: { authorization: `Bearer ${token}` } }),
    )
    expect(invalid.status).toBe(422)
  })
})
