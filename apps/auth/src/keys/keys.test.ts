import { afterEach, describe, expect, it } from 'bun:test'
import { createAccessTokenVerifier } from '@flotilla/service-kit'
import { createTestCore, type TestCore } from '../testing.ts'

const cores: TestCore[] = []
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close()
})

/** A test core whose key ring reads a clock the test moves. */
const instance = async (prefix: string, now: { value: number }, overrides = {}) => {
  const core = await createTestCore({ redisPrefix: prefix, ...overrides }, { clock: () => now.value })
  cores.push(core)
  return core
}
const prefix = () => `test:auth:${crypto.randomUUID().slice(0, 8)}:`
const subject = { userId: 'u1', sessionId: 's1', scopes: ['profile'] }
const farFuture = Date.now() + 86_400_000

describe('signing key ring', () => {
  it('keeps private keys sealed at rest and publishes only public keys', async () => {
    const core = await instance(prefix(), { value: Date.now() })
    const stored = await core.redis.hvals(`${core.settings.redisPrefix}keys`)
    expect(stored).toHaveLength(1)
    const record = JSON.parse(stored[0] ?? '{}') as {
      sealedPrivateKey: string
      publicJwk: Record<string, unknown>
    }
    expect(record.sealedPrivateKey).toStartWith('v1.')
    expect(record.publicJwk.d).toBeUndefined()
    expect(stored[0]).not.toContain('"d":')
    const jwks = core.keyRing.jwks()
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(JSON.stringify(jwks)).not.toContain('"d"')
  })

  it('shares one key between instances, created once even when they all start together', async () => {
    const p = prefix()
    const now = { value: Date.now() }
    const all = await Promise.all(Array.from({ length: 5 }, () => instance(p, now)))
    const kids = new Set(await Promise.all(all.map(async (c) => (await c.keyRing.signingKey()).kid)))
    expect(kids.size).toBe(1)
    const token = await all[0]?.tokens.issue(subject, farFuture)
    expect((await all[4]?.tokens.verifier.verify(token?.token ?? ''))?.userId).toBe('u1')
  })

  it('refuses to open keys sealed under another encryption secret', async () => {
    const p = prefix()
    const now = { value: Date.now() }
    await instance(p, now)
    const other = await instance(p, now, {
      keyEncryptionSecret: 'a-different-key-encryption-secret-0123456789abcdef',
    })
    await expect(other.keyRing.signingKey()).rejects.toThrow()
  })

  it('keeps tokens signed by the previous key valid after a rotation, until they have all expired', async () => {
    const now = { value: Date.now() }
    const core = await instance(prefix(), now)
    const old = await core.tokens.issue(subject, farFuture)
    const oldKid = (await core.keyRing.signingKey()).kid
    const newKid = await core.keyRing.rotateNow()
    expect(newKid).not.toBe(oldKid)
    now.value += 1 // a new key activates strictly after the one it replaces
    expect((await core.keyRing.signingKey()).kid).toBe(newKid)
    // Both the app's own verifier and a JWKS verifier in another app accept the old token.
    expect((await core.tokens.verifier.verify(old.token)).userId).toBe('u1')
    const elsewhere = createAccessTokenVerifier({ jwks: core.keyRing.jwks() })
    expect((await elsewhere.verify(old.token)).userId).toBe('u1')
    expect(
      core.keyRing
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([newKid, oldKid].sort())

    // Past the access-token lifetime + tolerance + one check interval, the old key is dropped.
    const s = core.settings
    now.value += (s.accessTokenTtlSeconds + s.clockToleranceSeconds + s.keyCheckIntervalSeconds) * 1000 + 1000
    await core.keyRing.ensure()
    expect(core.keyRing.jwks().keys.map((k) => k.kid)).toEqual([newKid])
    expect(await core.keyRing.publicKey(oldKid)).toBeUndefined()
  })

  it('answers a published key at once once imported, and nothing for it once it is no longer published', async () => {
    const now = { value: Date.now() }
    const core = await instance(prefix(), now)
    const oldKid = (await core.keyRing.signingKey()).kid
    const first = core.keyRing.publicKey(oldKid)
    expect(first).toBeInstanceOf(Promise)
    const imported = await first
    // The same key object, without a promise: the verified-token cache compares it on every hit.
    expect(core.keyRing.publicKey(oldKid)).toBe(imported)
    await core.keyRing.rotateNow()
    now.value += 1
    expect(core.keyRing.publicKey(oldKid)).toBe(imported)
    // Past its retention the key is not answered, though it was imported (and the ring not yet reloaded).
    const s = core.settings
    now.value += (s.accessTokenTtlSeconds + s.clockToleranceSeconds + s.keyCheckIntervalSeconds) * 1000 + 1000
    expect(core.keyRing.publicKey(oldKid)).toBeUndefined()
  })

  it('answers nothing for a retired key, though it was imported', async () => {
    const core = await instance(prefix(), { value: Date.now() })
    const oldKid = (await core.keyRing.signingKey()).kid
    await core.keyRing.publicKey(oldKid)
    const { retired } = await core.keyRing.rotateAndRetire()
    expect(retired).toEqual([oldKid])
    expect(await core.keyRing.publicKey(oldKid)).toBeUndefined()
  })

  it('rotates on schedule and publishes the next key before it signs', async () => {
    const now = { value: Date.now() }
    const core = await instance(prefix(), now, { keyRotationSeconds: 3600, keyPrepublishSeconds: 600 })
    const first = (await core.keyRing.signingKey()).kid
    now.value += (3600 - 600) * 1000 + 1
    await core.keyRing.ensure()
    const published = core.keyRing.jwks().keys.map((k) => k.kid)
    expect(published).toHaveLength(2)
    expect((await core.keyRing.signingKey()).kid).toBe(first) // the new key waits for its activation
    now.value += 600 * 1000
    const next = (await core.keyRing.signingKey()).kid
    expect(next).not.toBe(first)
    expect(published).toContain(next)
    await core.keyRing.ensure()
    expect(core.keyRing.jwks().keys).toHaveLength(2) // the first key stays while its tokens live
  })

  it('finds a key another instance created when a token names it', async () => {
    const p = prefix()
    const now = { value: Date.now() }
    const a = await instance(p, now)
    const b = await instance(p, now)
    await a.keyRing.rotateNow()
    now.value += 1
    const token = await a.tokens.issue(subject, farFuture)
    now.value += 1500 // past the reload rate limit
    expect((await b.tokens.verifier.verify(token.token)).userId).toBe('u1')
  })
})
