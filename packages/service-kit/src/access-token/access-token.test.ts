import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { TokenError } from '@flotilla/contracts'
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, SignJWT } from 'jose'
import { AppError, dependencyUnavailable } from '../errors/app-error.ts'
import type { RevocationList } from '../revocation/list.ts'
import { buildAttackTokens } from './attack-tokens.ts'
import { createAccessTokenVerifier } from './verifier.ts'

const claims = {
  iss: 'flotilla-auth',
  aud: 'flotilla',
  sub: 'u_1',
  sid: 's_1',
  scope: 'read write',
  tid: 't_1',
}

const newKey = async (kid: string) => {
  const pair = await generateKeyPair('EdDSA', { extractable: true })
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' }
  return { ...pair, kid, jwk }
}
type Key = Awaited<ReturnType<typeof newKey>>

const signWith = (key: Key, extra: Record<string, unknown> = {}) => {
  const t = Math.floor(Date.now() / 1000)
  return new SignJWT({ ...claims, did: 'd_1', jti: crypto.randomUUID(), iat: t, exp: t + 300, ...extra })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid })
    .sign(key.privateKey)
}

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error
  }
  return undefined
}

let keyA: Key
let keyB: Key
beforeAll(async () => {
  keyA = await newKey('key-a')
  keyB = await newKey('key-b')
})

describe('createAccessTokenVerifier with a local JWKS', () => {
  it('returns the user principal of a valid token', async () => {
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] } })
    const user = await verifier.verify(await signWith(keyA))
    expect(user).toMatchObject({
      kind: 'user',
      userId: 'u_1',
      sessionId: 's_1',
      tenantId: 't_1',
      deviceId: 'd_1',
      scopes: ['read', 'write'],
    })
    expect(typeof user.claims.jti).toBe('string')
  })

  it('accepts a token within the clock tolerance and refuses one past it', async () => {
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] }, clockToleranceSeconds: 5 })
    const t = Math.floor(Date.now() / 1000)
    await verifier.verify(await signWith(keyA, { iat: t - 100, exp: t - 2 }))
    expect(
      await refusal(verifier.verify(await signWith(keyA, { iat: t - 100, exp: t - 30 }))),
    ).toBeInstanceOf(TokenError)
  })

  it('refuses every attack token with a TokenError (401)', async () => {
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] } })
    const attacks = await buildAttackTokens({ ...keyA, claims: { ...claims, jti: crypto.randomUUID() } })
    expect(attacks.length).toBeGreaterThan(40)
    const accepted: string[] = []
    for (const attack of attacks) {
      const error = await refusal(verifier.verify(attack.token))
      if (!(error instanceof TokenError) || error.status !== 401) accepted.push(attack.name)
    }
    expect(accepted).toEqual([])
  })
})

describe('createAccessTokenVerifier with a JWKS URL', () => {
  let jwks: JSONWebKeySet = { keys: [] }
  let fetches = 0
  let server: ReturnType<typeof Bun.serve>
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      fetch: () => {
        fetches++
        return Response.json(jwks)
      },
    })
  })
  afterAll(() => server.stop(true))
  const url = () => `http://127.0.0.1:${server.port}/.well-known/jwks.json`

  it('caches the key set and refetches it when a token names an unknown kid (rotation)', async () => {
    jwks = { keys: [keyA.jwk] }
    fetches = 0
    const verifier = createAccessTokenVerifier({ jwksUrl: url(), jwksCooldownMs: 0 })
    await verifier.verify(await signWith(keyA))
    await verifier.verify(await signWith(keyA))
    expect(fetches).toBe(1)
    jwks = { keys: [keyB.jwk, keyA.jwk] }
    expect((await verifier.verify(await signWith(keyB))).userId).toBe('u_1')
    expect(fetches).toBe(2)
    // The previous key stays published, so tokens signed before the rotation still verify.
    await verifier.verify(await signWith(keyA))
    expect(fetches).toBe(2)
  })

  it('refetches at most once per cooldown however many unknown kids arrive', async () => {
    jwks = { keys: [keyA.jwk] }
    fetches = 0
    const verifier = createAccessTokenVerifier({ jwksUrl: url(), jwksCooldownMs: 60_000 })
    await verifier.verify(await signWith(keyA))
    const unknown = await newKey('key-unknown')
    for (let i = 0; i < 5; i++) {
      expect(await refusal(verifier.verify(await signWith(unknown)))).toBeInstanceOf(TokenError)
    }
    expect(fetches).toBe(1)
  })

  it('never fetches a jku or x5u named in a token', async () => {
    jwks = { keys: [keyA.jwk] }
    let attackerFetches = 0
    const attacker = Bun.serve({
      port: 0,
      fetch: () => {
        attackerFetches++
        return Response.json({ keys: [] })
      },
    })
    try {
      const verifier = createAccessTokenVerifier({ jwksUrl: url() })
      const forged = await new SignJWT({ ...claims, jti: 'j' })
        .setProtectedHeader({
          alg: 'EdDSA',
          typ: 'at+jwt',
          kid: 'key-a',
          jku: `http://127.0.0.1:${attacker.port}/`,
        })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(keyA.privateKey)
      expect(await refusal(verifier.verify(forged))).toBeInstanceOf(TokenError)
      expect(attackerFetches).toBe(0)
    } finally {
      attacker.stop(true)
    }
  })

  it('refuses tokens with a 401 when the JWKS endpoint is unreachable', async () => {
    const verifier = createAccessTokenVerifier({
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      jwksTimeoutMs: 500,
    })
    expect(await refusal(verifier.verify(await signWith(keyA)))).toBeInstanceOf(TokenError)
  })
})

describe('createAccessTokenVerifier verified-token cache', () => {
  const resolverOver = (keys: Map<string, CryptoKey>) => (header: { kid?: string }) => {
    const key = header.kid ? keys.get(header.kid) : undefined
    if (!key) throw new Error('unknown key id')
    return key
  }

  it('answers a token seen before from memory, and verifies every time with cache: false', async () => {
    const token = await signWith(keyA)
    const cached = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] } })
    expect(await cached.verify(token)).toBe(await cached.verify(token))
    const uncached = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] }, cache: false })
    const [first, second] = [await uncached.verify(token), await uncached.verify(token)]
    expect(first).not.toBe(second)
    expect(first).toEqual(second)
  })

  it('refuses a remembered token once its key is retired', async () => {
    const keys = new Map([[keyA.kid, keyA.publicKey]])
    const verifier = createAccessTokenVerifier({ resolveKey: resolverOver(keys) })
    const token = await signWith(keyA)
    expect((await verifier.verify(token)).userId).toBe('u_1')
    keys.delete(keyA.kid)
    expect(await refusal(verifier.verify(token))).toBeInstanceOf(TokenError)
  })

  it('refuses a remembered token when its kid now names another key', async () => {
    const keys = new Map([[keyA.kid, keyA.publicKey]])
    const verifier = createAccessTokenVerifier({ resolveKey: resolverOver(keys) })
    const token = await signWith(keyA)
    await verifier.verify(token)
    keys.set(keyA.kid, keyB.publicKey)
    expect(await refusal(verifier.verify(token))).toBeInstanceOf(TokenError)
  })

  it('refuses malformed variants of a remembered token', async () => {
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] } })
    const token = await signWith(keyA)
    await verifier.verify(token)
    expect(await refusal(verifier.verify(`${token}.`))).toBeInstanceOf(TokenError)
    expect(await refusal(verifier.verify(`${token} `))).toBeInstanceOf(TokenError)
  })
})

describe('createAccessTokenVerifier with a revocation list', () => {
  /** An in-memory list: what the runner's list answers once it is synced. */
  const fakeList = () => {
    const sessions = new Set<string>()
    const kids = new Set<string>()
    let failing = false
    const list: RevocationList = {
      async check({ kid, sid }) {
        if (failing) throw dependencyUnavailable('redis')
        if (kid && kids.has(kid)) return 'signing key retired'
        if (sid && sessions.has(sid)) return 'session revoked'
        return undefined
      },
      onKeysRetired() {},
      start() {},
      synced: true,
      async close() {},
    }
    return { list, sessions, kids, fail: () => (failing = true) }
  }

  it('refuses a remembered token once its session is revoked (the cache never outlives a revocation)', async () => {
    const { list, sessions } = fakeList()
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] }, revocations: list })
    const token = await signWith(keyA)
    expect((await verifier.verify(token)).sessionId).toBe('s_1')
    sessions.add('s_1')
    expect(await refusal(verifier.verify(token))).toBeInstanceOf(TokenError)
  })

  it('refuses tokens signed by a retired kid, remembered or not', async () => {
    const { list, kids } = fakeList()
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] }, revocations: list })
    const remembered = await signWith(keyA)
    await verifier.verify(remembered)
    kids.add(keyA.kid)
    expect(await refusal(verifier.verify(remembered))).toBeInstanceOf(TokenError)
    expect(await refusal(verifier.verify(await signWith(keyA)))).toBeInstanceOf(TokenError)
  })

  it('answers 503 DEPENDENCY_UNAVAILABLE, not 401, when the revocation state cannot be known', async () => {
    const { list, fail } = fakeList()
    const verifier = createAccessTokenVerifier({ jwks: { keys: [keyA.jwk] }, revocations: list })
    fail()
    const error = await refusal(verifier.verify(await signWith(keyA)))
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).status).toBe(503)
  })
})
