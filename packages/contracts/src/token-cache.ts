/**
 * A bounded memory of tokens that verified, so a token presented again (a client reusing its token for its
 * lifetime, as most do) skips the signature check. Only successes are kept. Each entry remembers the key
 * that verified it: a hit counts only while the key source still returns that same key for the token's
 * header, so a key removed or replaced (rotation, an emergency retire) ends its tokens' entries at once. An
 * entry also ends when the token expires, or when it would outlive its maximum age, or `maxTtlSeconds`.
 */
import { createHash } from 'node:crypto'
import type { JWSHeaderParameters } from 'jose'
import { LRUCache } from 'lru-cache'

export interface VerifiedTokenCacheOptions {
  /** Entries kept; the least recently used goes first. @defaultValue 10000 */
  readonly maxEntries?: number
  /** Longest time an entry is trusted, whatever the token's own lifetime. @defaultValue 300 */
  readonly maxTtlSeconds?: number
}

interface Entry<T> {
  readonly value: T
  /** The protected header the key was resolved for (`alg`, `kid`…). */
  readonly header: JWSHeaderParameters
  /** The key object that verified the signature. */
  readonly key: unknown
  /** Date.now() after which the entry must not be used (the time checks jose would fail). */
  readonly validUntil: number
}

/** The verifier's clock tolerance and maximum token age: an entry ends when its token would stop verifying by time. */
export interface TimeLimits {
  readonly toleranceSeconds: number
  readonly maxAgeSeconds?: number
}

/** A verifier's key lookup for a token header (jose's key-getter shape). */
export type KeyResolver<K> = (header: JWSHeaderParameters) => K | Promise<K>

/** Claims the cache needs to know how long a verification stays true. */
export interface TimeClaims {
  readonly exp?: number
  readonly iat?: number
}

/** A value now, or a promise of it: a hit answered from memory costs no turn of the event loop. */
export type MaybePromise<T> = T | Promise<T>

export interface VerifiedTokenCache<T> {
  /**
   * The remembered result for `token` when its key still resolves to the one that verified it, else
   * undefined (verify it in full). `resolveKey` is the verifier's own key lookup; if it throws, it is a miss.
   * Answered at once when `resolveKey` answers at once, else a promise.
   */
  get(token: string, resolveKey: KeyResolver<unknown>): MaybePromise<T | undefined>
  /** Remembers a verified token until it would stop verifying by time (see `TimeLimits`). */
  set(
    token: string,
    entry: { value: T; header: JWSHeaderParameters; key: unknown; claims: TimeClaims },
    limits: TimeLimits,
  ): void
  /**
   * The remembered result for `token`, or `verify` run with a resolver that notes the key it hands out, its
   * result remembered: the one path both verifiers take (the token is hashed once). A hit whose key
   * resolves at once is answered at once; a miss is always a promise.
   */
  remember<K>(
    token: string,
    resolveKey: KeyResolver<K>,
    limits: TimeLimits,
    verify: (resolveKey: KeyResolver<K>) => Promise<{ value: T; claims: TimeClaims }>,
  ): MaybePromise<T>
  /** Forgets every entry. */
  clear(): void
  readonly size: number
}

// SHA-256 of the token, not the token: entries are 44 characters whatever the token's size, and a lookup never
// compares an attacker's string against a stored token. On Bun its one-shot SHA-256 (~0.5 µs for a 400-character
// token) rather than node:crypto's hash object (~1.0–1.5 µs, most of it making the object).
const bunSha256 = (globalThis as { Bun?: { SHA256: { hash(input: string, encoding: 'base64'): string } } })
  .Bun?.SHA256
const fingerprint = bunSha256
  ? (token: string) => bunSha256.hash(token, 'base64')
  : (token: string) => createHash('sha256').update(token).digest('base64')

/**
 * Creates a cache for one verifier.
 * @example const cache = createVerifiedTokenCache<Principal>({ maxEntries: 10_000 })
 */
export const createVerifiedTokenCache = <T extends object>(
  options: VerifiedTokenCacheOptions = {},
): VerifiedTokenCache<T> => {
  const maxTtlMs = (options.maxTtlSeconds ?? 300) * 1000
  const entries = new LRUCache<string, Entry<T>>({ max: options.maxEntries ?? 10_000 })
  const forget = (id: string): undefined => {
    entries.delete(id)
    return undefined
  }
  const matching = (id: string, entry: Entry<T>, key: unknown): T | undefined =>
    key === entry.key ? entry.value : forget(id)
  const lookup = (id: string, resolveKey: KeyResolver<unknown>): MaybePromise<T | undefined> => {
    const entry = entries.get(id)
    if (!entry) return undefined
    if (Date.now() >= entry.validUntil) return forget(id)
    let key: unknown
    try {
      key = resolveKey(entry.header)
    } catch {
      return forget(id)
    }
    return key instanceof Promise
      ? key.then(
          (resolved: unknown) => matching(id, entry, resolved),
          () => forget(id),
        )
      : matching(id, entry, key)
  }
  const store = (
    id: string,
    {
      value,
      header,
      key,
      claims,
    }: { value: T; header: JWSHeaderParameters; key: unknown; claims: TimeClaims },
    { toleranceSeconds, maxAgeSeconds }: TimeLimits,
  ): void => {
    const now = Date.now()
    let validUntil = now + maxTtlMs
    if (typeof claims.exp === 'number')
      validUntil = Math.min(validUntil, (claims.exp + toleranceSeconds) * 1000)
    if (typeof claims.iat === 'number' && maxAgeSeconds !== undefined)
      validUntil = Math.min(validUntil, (claims.iat + maxAgeSeconds + toleranceSeconds) * 1000)
    if (validUntil > now) entries.set(id, { value, header, key, validUntil })
  }
  // A miss: the full check, with a resolver that notes the key it hands out; only a success is remembered.
  const verifyAndStore = async <K>(
    id: string,
    resolveKey: KeyResolver<K>,
    limits: TimeLimits,
    verify: (resolveKey: KeyResolver<K>) => Promise<{ value: T; claims: TimeClaims }>,
  ): Promise<T> => {
    let used: { header: JWSHeaderParameters; key: unknown } | undefined
    const { value, claims } = await verify(async (header) => {
      const key = await resolveKey(header)
      used = { header, key }
      return key
    })
    if (used) store(id, { value, ...used, claims }, limits)
    return value
  }
  return {
    get: (token, resolveKey) => lookup(fingerprint(token), resolveKey),
    set: (token, entry, limits) => store(fingerprint(token), entry, limits),
    remember(token, resolveKey, limits, verify) {
      const id = fingerprint(token)
      const remembered = lookup(id, resolveKey)
      if (remembered instanceof Promise)
        return remembered.then((value) => value ?? verifyAndStore(id, resolveKey, limits, verify))
      return remembered ?? verifyAndStore(id, resolveKey, limits, verify)
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size
    },
  }
}

/** `cache.remember(…)`, or `verify` with the plain resolver when the verifier has no cache (`cache: false`). */
export const verifyRemembering = <T extends object, K>(
  cache: VerifiedTokenCache<T> | undefined,
  token: string,
  resolveKey: KeyResolver<K>,
  limits: TimeLimits,
  verify: (resolveKey: KeyResolver<K>) => Promise<{ value: T; claims: TimeClaims }>,
): MaybePromise<T> =>
  cache ? cache.remember(token, resolveKey, limits, verify) : verify(resolveKey).then(({ value }) => value)
