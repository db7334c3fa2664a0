import { afterEach, describe, expect, it, setSystemTime } from 'bun:test'
import {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  parseKeyRing,
  TokenError,
} from './service-token.ts'
import { createVerifiedTokenCache } from './token-cache.ts'

afterEach(() => setSystemTime())

const key = { name: 'key one' }
const other = { name: 'key two' }
const header = { alg: 'HS256', kid: 'k1' }
const nowSeconds = () => Math.floor(Date.now() / 1000)
const claims = () => ({ iat: nowSeconds(), exp: nowSeconds() + 60 })
const limits = { toleranceSeconds: 5, maxAgeSeconds: 600 }

describe('createVerifiedTokenCache', () => {
  it('returns a remembered result only for the same token and the same key', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    cache.set('token-a', { value: { id: 'a' }, header, key, claims: claims() }, limits)
    expect(await cache.get('token-a', () => key)).toEqual({ id: 'a' })
    expect(await cache.get('token-b', () => key)).toBeUndefined()
    expect(await cache.get('token-a ', () => key)).toBeUndefined()
  })

  it('forgets an entry whose key the source no longer returns (rotation, retirement)', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    cache.set('token-a', { value: { id: 'a' }, header, key, claims: claims() }, limits)
    expect(await cache.get('token-a', () => other)).toBeUndefined()
    // The entry is gone, not just skipped: the old key coming back does not revive it.
    expect(await cache.get('token-a', () => key)).toBeUndefined()
    cache.set('token-b', { value: { id: 'b' }, header, key, claims: claims() }, limits)
    expect(
      await cache.get('token-b', () => {
        throw new Error('unknown key id')
      }),
    ).toBeUndefined()
  })

  it('passes the remembered header to the key source', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    cache.set('token-a', { value: { id: 'a' }, header, key, claims: claims() }, limits)
    const asked: unknown[] = []
    await cache.get('token-a', (h) => {
      asked.push(h)
      return key
    })
    expect(asked).toEqual([header])
  })

  it('ends an entry when the token expires (with the clock tolerance)', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    const start = Date.now()
    cache.set(
      'token-a',
      { value: { id: 'a' }, header, key, claims: { iat: nowSeconds(), exp: nowSeconds() + 10 } },
      limits,
    )
    setSystemTime(new Date(start + 14_000))
    expect(await cache.get('token-a', () => key)).toEqual({ id: 'a' })
    setSystemTime(new Date(start + 16_000))
    expect(await cache.get('token-a', () => key)).toBeUndefined()
  })

  it('ends an entry when the token reaches its maximum age, or maxTtlSeconds', async () => {
    const start = Date.now()
    const byAge = createVerifiedTokenCache<{ id: string }>()
    byAge.set(
      'token-a',
      { value: { id: 'a' }, header, key, claims: { iat: nowSeconds(), exp: nowSeconds() + 3600 } },
      { toleranceSeconds: 0, maxAgeSeconds: 30 },
    )
    const byTtl = createVerifiedTokenCache<{ id: string }>({ maxTtlSeconds: 20 })
    byTtl.set('token-a', { value: { id: 'a' }, header, key, claims: { exp: nowSeconds() + 3600 } }, limits)
    setSystemTime(new Date(start + 25_000))
    expect(await byTtl.get('token-a', () => key)).toBeUndefined()
    expect(await byAge.get('token-a', () => key)).toEqual({ id: 'a' })
    setSystemTime(new Date(start + 31_000))
    expect(await byAge.get('token-a', () => key)).toBeUndefined()
  })

  it('answers a hit at once when the key source does, and only a hit: a miss, an expired entry or a thrown key lookup verify again', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    const start = Date.now()
    let verified = 0
    const verify = async (resolve: (h: typeof header) => unknown) => {
      verified++
      await resolve(header)
      return { value: { id: 'a' }, claims: { iat: nowSeconds(), exp: nowSeconds() + 10 } }
    }
    const first = cache.remember('token-a', () => key, limits, verify)
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toEqual({ id: 'a' })
    // A hit with a key source that answers at once: the value itself, no promise, no verification.
    expect(cache.remember('token-a', () => key, limits, verify)).toEqual({ id: 'a' })
    // A key source that answers with a promise: a promise of the same value.
    const later = cache.remember('token-a', async () => key, limits, verify)
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toEqual({ id: 'a' })
    expect(verified).toBe(1)
    // Past the token's expiry (+ tolerance) the entry is gone: verified again, even with a key at hand.
    setSystemTime(new Date(start + 16_000))
    expect(await cache.remember('token-a', () => key, limits, verify)).toEqual({ id: 'a' })
    expect(verified).toBe(2)
    // A key lookup that throws on a hit is a miss, and the entry is dropped.
    const throwing = () => {
      throw new Error('unknown key id')
    }
    await expect(Promise.resolve(cache.remember('token-a', throwing, limits, verify))).rejects.toThrow(
      'unknown key id',
    )
    expect(cache.size).toBe(0)
  })

  it('does not keep a token that is already past its time', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>()
    cache.set('token-a', { value: { id: 'a' }, header, key, claims: { exp: nowSeconds() - 10 } }, limits)
    expect(cache.size).toBe(0)
  })

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const cache = createVerifiedTokenCache<{ id: string }>({ maxEntries: 2 })
    for (const id of ['a', 'b'])
      cache.set(`token-${id}`, { value: { id }, header, key, claims: claims() }, limits)
    expect(await cache.get('token-a', () => key)).toEqual({ id: 'a' })
    cache.set('token-c', { value: { id: 'c' }, header, key, claims: claims() }, limits)
    expect(cache.size).toBe(2)
    expect(await cache.get('token-b', () => key)).toBeUndefined()
    expect(await cache.get('token-a', () => key)).toEqual({ id: 'a' })
    cache.clear()
    expect(cache.size).toBe(0)
  })
})

describe('service tokens with the verified-token cache', () => {
  const ring = parseKeyRing('token-cache-test-secret-0123456789abcdef')
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    )

  it('verifies a remembered token again after it expires: refused', async () => {
    const verifier = createServiceTokenVerifier(ring, { audience: 'auth', clockToleranceSeconds: 0 })
    const start = Date.now()
    const token = await createServiceTokenSigner(ring, 'monolith').sign({ audience: 'auth', ttlSeconds: 30 })
    expect((await verifier.verify(token)).service).toBe('monolith')
    expect((await verifier.verify(token)).service).toBe('monolith')
    setSystemTime(new Date(start + 31_000))
    expect(await refusal(verifier.verify(token))).toBeInstanceOf(TokenError)
  })

  it('refuses a token whose key left the ring, even right after it verified', async () => {
    const token = await createServiceTokenSigner(ring, 'monolith').sign({ audience: 'auth' })
    const keys = new Map(ring.keys)
    const mutable = { currentKid: ring.currentKid, keys }
    const verifier = createServiceTokenVerifier(mutable, { audience: 'auth' })
    expect((await verifier.verify(token)).service).toBe('monolith')
    keys.delete(ring.currentKid)
    expect(await refusal(verifier.verify(token))).toBeInstanceOf(TokenError)
  })

  it('never lets a tampered copy of a remembered token through', async () => {
    const verifier = createServiceTokenVerifier(ring, { audience: 'auth' })
    const token = await createServiceTokenSigner(ring, 'monolith').sign({ audience: 'auth' })
    await verifier.verify(token)
    const [h, p, s] = token.split('.') as [string, string, string]
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`
    expect(await refusal(verifier.verify(flipped))).toBeInstanceOf(TokenError)
  })
})

describe('service token signer reuse', () => {
  const ring = parseKeyRing('token-reuse-test-secret-0123456789abcdef')

  it('hands out one token per audience until half its lifetime has passed', async () => {
    const signer = createServiceTokenSigner(ring, 'monolith')
    const start = Date.now()
    const first = await signer.sign({ audience: 'auth' })
    expect(await signer.sign({ audience: 'auth' })).toBe(first)
    expect(await signer.sign({ audience: 'audit' })).not.toBe(first)
    expect(await signer.sign({ audience: 'auth', ttlSeconds: 120 })).not.toBe(first)
    setSystemTime(new Date(start + 29_000))
    expect(await signer.sign({ audience: 'auth' })).toBe(first)
    setSystemTime(new Date(start + 31_000))
    expect(await signer.sign({ audience: 'auth' })).not.toBe(first)
  })

  it('mints a fresh token per call with reuse: false', async () => {
    const signer = createServiceTokenSigner(ring, 'monolith', { reuse: false })
    expect(await signer.sign({ audience: 'auth' })).not.toBe(await signer.sign({ audience: 'auth' }))
  })
})
