/**
 * Service-to-service tokens: short-lived HS256 JWTs, issuer = calling service, audience = target.
 * Secrets live in a key ring (`kid` → secret) so they rotate without downtime.
 */
import { createHash, randomUUID } from 'node:crypto'
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { compactShapeProblem } from './service-token-shape.ts'
import {
  createVerifiedTokenCache,
  type KeyResolver,
  type VerifiedTokenCacheOptions,
  verifyRemembering,
} from './token-cache.ts'

/** Header `typ` of every service token; a user's access token never passes as one. */
export const SERVICE_TOKEN_TYPE = 'service+jwt'
/** Minimum secret length in bytes (RFC 7518 §3.2: at least the hash size). */
export const MIN_SECRET_BYTES = 32
/** The longest service-token lifetime a verifier accepts unless told otherwise (`maxTtlSeconds`). */
export const MAX_SERVICE_TOKEN_TTL_SECONDS = 600

export interface KeyRing {
  /** The kid new tokens are signed with. */
  readonly currentKid: string
  readonly keys: ReadonlyMap<string, Uint8Array>
}

const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
const encoder = new TextEncoder()

const kidOf = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 12)

/**
 * Parses `SERVICE_TOKEN_SECRET`: one secret, or `kid=secret` pairs separated by commas where the first
 * pair signs and the others still verify (rotation). A bare secret gets a kid derived from its hash, so
 * every service configured with it agrees on the kid.
 * @example parseKeyRing('k2=<new 32+ byte secret>,k1=<old secret>')
 */
export const parseKeyRing = (value: string): KeyRing => {
  const parts = value.split(',').map((p) => p.trim())
  const pairs = parts.every((p) => /^[A-Za-z0-9_-]{1,32}=./.test(p))
  const entries = pairs
    ? parts.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const)
    : [[kidOf(value.trim()), value.trim()] as const]
  const keys = new Map<string, Uint8Array>()
  let currentKid = ''
  for (const [kid, secret] of entries) {
    if (!KID_PATTERN.test(kid)) throw new Error(`service token key id "${kid}" must match ${KID_PATTERN}`)
    if (encoder.encode(secret).byteLength < MIN_SECRET_BYTES) {
      throw new Error(`service token secret "${kid}" is shorter than ${MIN_SECRET_BYTES} bytes`)
    }
    if (keys.has(kid)) throw new Error(`service token key id "${kid}" appears twice`)
    keys.set(kid, encoder.encode(secret))
    currentKid ||= kid
  }
  return { currentKid, keys }
}

export interface SignServiceTokenOptions {
  /** The target service (`auth`, `audit`…). */
  readonly audience: string
  /** @defaultValue 60 */
  readonly ttlSeconds?: number
}

export interface ServiceTokenSignerOptions {
  /**
   * Hand out the same token per audience until half its lifetime has passed, instead of minting one per
   * call: the target's verifier then checks each token's HMAC once, not once per request. A token is a
   * bearer credential either way; reuse never extends its lifetime. @defaultValue true
   */
  readonly reuse?: boolean
}

/** Creates a signer for one calling service. */
export const createServiceTokenSigner = (
  ring: KeyRing,
  issuer: string,
  options: ServiceTokenSignerOptions = {},
) => {
  const key = ring.keys.get(ring.currentKid)
  if (!key) throw new Error('key ring has no current key')
  const mint = (audience: string, ttlSeconds: number): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: ring.currentKid, typ: SERVICE_TOKEN_TYPE })
      .setIssuer(issuer)
      .setSubject(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(key)
  // One entry per audience and lifetime: a handful at most.
  const held = new Map<string, { readonly token: Promise<string>; readonly renewAt: number }>()
  return {
    issuer,
    /** A token for one target service: a fresh one, or the current one while half its lifetime is left. */
    sign({ audience, ttlSeconds = 60 }: SignServiceTokenOptions): Promise<string> {
      if (options.reuse === false) return mint(audience, ttlSeconds)
      const id = `${audience}\n${ttlSeconds}`
      const now = Date.now()
      const current = held.get(id)
      if (current && now < current.renewAt) return current.token
      const entry = { token: mint(audience, ttlSeconds), renewAt: now + ttlSeconds * 500 }
      held.set(id, entry)
      entry.token.catch(() => {
        if (held.get(id) === entry) held.delete(id)
      })
      return entry.token
    },
  }
}
export type ServiceTokenSigner = ReturnType<typeof createServiceTokenSigner>

/** Why a token was refused. Always rendered as 401, never 500. */
export class TokenError extends Error {
  readonly code = 'INVALID_TOKEN'
  readonly status = 401
  override readonly name = 'TokenError'
}

export interface VerifiedServiceToken {
  /** The calling service. */
  readonly service: string
  readonly claims: JWTPayload
}

export interface ServiceTokenVerifierOptions {
  /**
   * This service's name: a token's `aud` must be exactly this string. An array is refused even when it holds
   * only this name: the signer never writes one, and a token for several services is a token any of them
   * could replay to the others.
   */
  readonly audience: string
  /** Services allowed to call; any issuer when omitted. */
  readonly issuers?: readonly string[]
  /** @defaultValue 5 */
  readonly clockToleranceSeconds?: number
  /** Refuse tokens whose lifetime exceeds this. @defaultValue MAX_SERVICE_TOKEN_TTL_SECONDS (600) */
  readonly maxTtlSeconds?: number
  /**
   * Remember verified tokens so a token sent again skips the HMAC (callers reuse a token for half its
   * lifetime; see the signer). `false` checks every time. @defaultValue `{ maxEntries: 10000, maxTtlSeconds: 300 }`
   */
  readonly cache?: VerifiedTokenCacheOptions | false
}

// Header members that point at keys we would have to fetch or trust from the token itself.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const

/** Creates a verifier for tokens addressed to one service. */
export const createServiceTokenVerifier = (ring: KeyRing, options: ServiceTokenVerifierOptions) => {
  const tolerance = options.clockToleranceSeconds ?? 5
  const maxTtl = options.maxTtlSeconds ?? MAX_SERVICE_TOKEN_TTL_SECONDS
  const limits = { toleranceSeconds: tolerance, maxAgeSeconds: maxTtl + tolerance }
  const cache =
    options.cache === false ? undefined : createVerifiedTokenCache<VerifiedServiceToken>(options.cache)
  const keyFor = (header: { kid?: unknown }): Uint8Array => {
    for (const name of FORBIDDEN_HEADERS) {
      if (name in header) throw new TokenError(`token header "${name}" is not accepted`)
    }
    const kid = header.kid
    const key = typeof kid === 'string' ? ring.keys.get(kid) : undefined
    if (!key) throw new TokenError('token key id is unknown')
    return key
  }
  // The full check, run only on a cache miss; only a token that passed all of it is remembered.
  const verifyFully = async (
    token: string,
    resolveKey: KeyResolver<Uint8Array>,
  ): Promise<{ value: VerifiedServiceToken; claims: JWTPayload }> => {
    const problem = compactShapeProblem(token)
    if (problem) throw new TokenError(problem)
    const { payload, protectedHeader } = await jwtVerify(token, resolveKey, {
      algorithms: ['HS256'],
      audience: options.audience,
      ...(options.issuers ? { issuer: [...options.issuers] } : {}),
      requiredClaims: ['exp', 'iat', 'iss', 'sub', 'aud', 'jti'],
      typ: SERVICE_TOKEN_TYPE,
      clockTolerance: tolerance,
      maxTokenAge: maxTtl + tolerance,
    })
    // jose compares `typ` ignoring case and an `application/` prefix, and takes `aud` from an array.
    if (protectedHeader.typ !== SERVICE_TOKEN_TYPE)
      throw new TokenError(`token typ must be exactly "${SERVICE_TOKEN_TYPE}"`)
    if (payload.aud !== options.audience)
      throw new TokenError('token audience must be exactly this service, as a single string')
    if (payload.sub !== payload.iss) throw new TokenError('token subject must be the issuing service')
    if (
      typeof payload.exp === 'number' &&
      typeof payload.iat === 'number' &&
      payload.exp - payload.iat > maxTtl
    ) {
      throw new TokenError('token lifetime is too long')
    }
    return { value: { service: payload.iss as string, claims: payload }, claims: payload }
  }
  return {
    /** Verifies a token and returns the calling service; throws TokenError on anything wrong. */
    async verify(token: string): Promise<VerifiedServiceToken> {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
        throw new TokenError('token is missing or malformed')
      }
      try {
        // A remembered token is answered without a promise (its key is a map lookup).
        const result = verifyRemembering(cache, token, keyFor, limits, (resolveKey) =>
          verifyFully(token, resolveKey),
        )
        return result instanceof Promise ? await result : result
      } catch (cause) {
        if (cause instanceof TokenError) throw cause
        const reason = cause instanceof joseErrors.JOSEError ? cause.code : 'ERR_JWT_MALFORMED'
        throw new TokenError(`token refused (${reason})`, { cause })
      }
    },
  }
}
export type ServiceTokenVerifier = ReturnType<typeof createServiceTokenVerifier>
