/**
 * Signing keys shared by every auth instance: a key ring in one Redis hash, private keys sealed with
 * AES-GCM under a key derived from `AUTH_KEY_ENCRYPTION_SECRET`. A new key is created (under a Redis
 * lock, so only one instance does it) `prepublish` before it starts signing, so verifiers see it in the
 * JWKS first; the previous key stays published until every token it signed has expired.
 */
import type { RedisClient } from '@flotilla/streams'
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { SealingKey } from './sealing.ts'

/** A published public key: always with `kid`, `alg` and `use`. */
export type PublicJwk = JWK & { readonly kty: string; readonly kid: string; readonly alg: string }

/** One key as stored in Redis (the private half sealed). */
export interface StoredKey {
  readonly kid: string
  readonly alg: 'EdDSA'
  readonly publicJwk: PublicJwk
  readonly sealedPrivateKey: string
  /** ms since epoch. */
  readonly createdAt: number
  /** When it starts signing (ms since epoch). */
  readonly activatesAt: number
}

export interface KeyRingOptions {
  readonly redis: RedisClient
  /** Redis key prefix, e.g. `auth:`. */
  readonly prefix: string
  readonly sealer: SealingKey
  /** How long a key signs before the next one takes over. */
  readonly rotationMs: number
  /** How long a new key is published before it signs. */
  readonly prepublishMs: number
  /** The longest access-token lifetime plus clock tolerance: how long a retired key stays published. */
  readonly retainMs: number
  /** Announces retired keys to every verifier at once (`createRevocationWriter`). */
  readonly revocations?: { retireKeys(kids: readonly string[]): Promise<void> }
  /** @defaultValue Date.now */
  readonly clock?: () => number
}

/** The key that signs now, ready for jose. */
export interface SigningKey {
  readonly kid: string
  readonly alg: 'EdDSA'
  readonly privateKey: CryptoKey
}

const LOCK_TTL_MS = 10_000
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

const byActivation = (a: StoredKey, b: StoredKey) =>
  b.activatesAt - a.activatesAt || b.createdAt - a.createdAt

/** Creates the key ring; call `ensure()` at boot and on a timer. */
export const createKeyRing = (options: KeyRingOptions) => {
  const { redis, prefix, sealer } = options
  const clock = options.clock ?? Date.now
  const ringKey = `${prefix}keys`
  const lockKey = `${prefix}keys:lock`
  let keys: StoredKey[] = []
  const privateKeys = new Map<string, Promise<CryptoKey>>()
  // A kid's public key: its import while pending, then the key itself (answered without a promise).
  const publicKeys = new Map<string, CryptoKey | Promise<CryptoKey>>()
  let lastReload = 0

  const load = async (): Promise<StoredKey[]> => {
    const raw = await redis.hvals(ringKey)
    return raw.map((value) => JSON.parse(value) as StoredKey).sort(byActivation)
  }

  /** When a key stopped signing: the activation of the oldest key newer than it that has activated. */
  const retiredAt = (key: StoredKey, ring: StoredKey[], now: number): number | undefined => {
    const successors = ring.filter((k) => k.activatesAt > key.activatesAt && k.activatesAt <= now)
    return successors.length === 0 ? undefined : Math.min(...successors.map((k) => k.activatesAt))
  }
  const isPublished = (key: StoredKey, ring: StoredKey[], now: number) => {
    const retired = retiredAt(key, ring, now)
    return retired === undefined || retired + options.retainMs > now
  }

  const create = async (activatesAt: number): Promise<StoredKey> => {
    const pair = await generateKeyPair('EdDSA', { extractable: true })
    const kid = `k${clock().toString(36)}${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`
    const privateJwk = await exportJWK(pair.privateKey)
    const stored: StoredKey = {
      kid,
      alg: 'EdDSA',
      publicJwk: { ...(await exportJWK(pair.publicKey)), kty: 'OKP', kid, alg: 'EdDSA', use: 'sig' },
      sealedPrivateKey: await sealer.seal(JSON.stringify(privateJwk), kid),
      createdAt: clock(),
      activatesAt,
    }
    await redis.hset(ringKey, kid, JSON.stringify(stored))
    return stored
  }

  const withLock = async (work: () => Promise<void>): Promise<boolean> => {
    const token = crypto.randomUUID()
    if ((await redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') return false
    try {
      await work()
      return true
    } finally {
      await redis.eval(RELEASE_LOCK, 1, lockKey, token)
    }
  }

  const reload = async () => {
    keys = await load()
    lastReload = clock()
  }

  const ring = {
    /**
     * Loads the ring; creates the first key, or the next one when the current one is due to rotate, and
     * drops keys whose tokens have all expired. Safe to run on every instance at once.
     */
    async ensure(): Promise<void> {
      await reload()
      const now = clock()
      const newest = keys[0]
      const due = !newest || now >= newest.activatesAt + options.rotationMs - options.prepublishMs
      const stale = keys.filter((k) => !isPublished(k, keys, now))
      if (!due && stale.length === 0) return
      const done = await withLock(async () => {
        const current = await load()
        const latest = current[0]
        const t = clock()
        if (!latest) await create(t)
        else if (t >= latest.activatesAt + options.rotationMs - options.prepublishMs) {
          await create(Math.max(t + options.prepublishMs, latest.activatesAt + 1))
        }
        const drop = current.filter((k) => !isPublished(k, current, t)).map((k) => k.kid)
        if (drop.length > 0) await redis.hdel(ringKey, ...drop)
      })
      await reload()
      // Another instance holds the lock while creating the very first key: wait for it rather than fail.
      for (let waited = 0; !done && keys.length === 0 && waited < LOCK_TTL_MS; waited += 50) {
        await Bun.sleep(50)
        await reload()
      }
    },

    /** Creates a key that signs from the next millisecond on (operator-triggered rotation, tests). */
    async rotateNow(): Promise<string> {
      let created: StoredKey | undefined
      const work = async () => {
        // Strictly after the newest key, so the order of activation is never a tie.
        const latest = (await load())[0]
        created = await create(Math.max(clock(), (latest?.activatesAt ?? 0) + 1))
      }
      while (!(await withLock(work))) await Bun.sleep(50)
      await reload()
      return created?.kid ?? ''
    },

    /**
     * Emergency rotation (a signing key leaked): a new key signs from the next millisecond and every
     * other key is deleted at once, so tokens they signed stop verifying here. Returns the new kid and
     * the removed ones. The retirement is announced first (`revocations`), so every verifier — other
     * services and other auth instances — refuses the old keys at once, not when its JWKS cache expires.
     */
    async rotateAndRetire(): Promise<{ kid: string; retired: string[] }> {
      const kid = await ring.rotateNow()
      const retired = (await load()).map((k) => k.kid).filter((k) => k !== kid)
      if (retired.length > 0) await options.revocations?.retireKeys(retired)
      if (retired.length > 0) await redis.hdel(ringKey, ...retired)
      for (const old of retired) {
        privateKeys.delete(old)
        publicKeys.delete(old)
      }
      await reload()
      return { kid, retired }
    },

    /** The key that signs now. */
    async signingKey(): Promise<SigningKey> {
      const now = clock()
      let active = keys.find((k) => k.activatesAt <= now)
      if (!active) {
        await ring.ensure()
        active = keys.find((k) => k.activatesAt <= clock())
      }
      if (!active) throw new Error('no active signing key in the key ring')
      const key = active
      let pending = privateKeys.get(key.kid)
      if (!pending) {
        pending = sealer
          .open(key.sealedPrivateKey, key.kid)
          .then((jwk) => importJWK(JSON.parse(jwk) as JWK, 'EdDSA') as Promise<CryptoKey>)
        pending.catch(() => privateKeys.delete(key.kid))
        privateKeys.set(key.kid, pending)
      }
      return { kid: key.kid, alg: key.alg, privateKey: await pending }
    },

    /** Reloads the ring when the cached copy is older than `maxAgeMs` (JWKS requests). */
    async refresh(maxAgeMs = 1000): Promise<void> {
      if (clock() - lastReload >= maxAgeMs) await reload()
    },

    /** The public keys to publish: the signing key, keys waiting to sign, and retired keys still in use. */
    jwks(): { keys: PublicJwk[] } {
      const now = clock()
      return { keys: keys.filter((k) => isPublished(k, keys, now)).map((k) => k.publicJwk) }
    },

    /**
     * The public key for a kid; reloads the ring (at most once a second) when the kid is unknown, so a
     * key created by another instance is found and a flood of made-up kids costs little. Answered at once
     * (no promise) for a published key already imported: the verified-token cache asks on every request.
     */
    publicKey(kid: string): CryptoKey | undefined | Promise<CryptoKey | undefined> {
      const key = keys.find((k) => k.kid === kid)
      if (!key) return clock() - lastReload >= 1000 ? reloadAndImport(kid) : undefined
      return publishedKey(key)
    },
  }
  /** The imported key of a stored key while it is published. */
  const publishedKey = (key: StoredKey): CryptoKey | undefined | Promise<CryptoKey> => {
    if (!isPublished(key, keys, clock())) return undefined
    const known = publicKeys.get(key.kid)
    if (known) return known
    const kid = key.kid
    const pending = importJWK(key.publicJwk, 'EdDSA') as Promise<CryptoKey>
    // The key replaces its import once imported, unless the key was retired meanwhile (its import is gone then).
    pending.then(
      (imported) => {
        if (publicKeys.get(kid) === pending) publicKeys.set(kid, imported)
      },
      () => undefined,
    )
    publicKeys.set(kid, pending)
    return pending
  }
  const reloadAndImport = async (kid: string): Promise<CryptoKey | undefined> => {
    await reload()
    const key = keys.find((k) => k.kid === kid)
    return key ? publishedKey(key) : undefined
  }
  return ring
}
export type KeyRing = ReturnType<typeof createKeyRing>
