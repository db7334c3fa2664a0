/**
 * JWKS verifier for user access tokens issued by the auth service (RFC 9068 `at+jwt`).
 * Checks every JWT trap of docs/pitfalls.md: algorithm allow-list, typ, issuer, audience, required claims,
 * small clock tolerance, and refuses headers that point at keys (`jwk`, `jku`, `x5u`, `x5c`) without
 * ever fetching them.
 */
import {
  createVerifiedTokenCache,
  TokenError,
  type VerifiedTokenCacheOptions,
  verifyRemembering,
} from '@flotilla/contracts'
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import type { RevocationList } from '../revocation/list.ts'
import type { AccessTokenVerifier, UserPrincipal } from './types.ts'

/** Header `typ` of every user access token (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt'
/** Algorithms the auth service may sign with; anything else (none, HS*, RS*) is refused. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'] as const
/** Claims every access token must carry. */
export const REQUIRED_ACCESS_TOKEN_CLAIMS = ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp'] as const

/** A function that returns the verification key for a token header (jose's `JWTVerifyGetKey` shape). */
export type AccessTokenKeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey> | CryptoKey

/** Where the public keys come from: a JWKS URL, a JWKS object, or a resolver. */
export type AccessTokenKeySource =
  | { readonly jwksUrl: string | URL; readonly jwks?: never; readonly resolveKey?: never }
  | { readonly jwks: JSONWebKeySet; readonly jwksUrl?: never; readonly resolveKey?: never }
  | { readonly resolveKey: AccessTokenKeyResolver; readonly jwksUrl?: never; readonly jwks?: never }

export type AccessTokenVerifierOptions = AccessTokenKeySource & {
  /** Expected `iss`. @defaultValue 'flotilla-auth' */
  readonly issuer?: string
  /** Expected `aud`. @defaultValue 'flotilla' */
  readonly audience?: string
  /** @defaultValue ['EdDSA', 'ES256'] */
  readonly algorithms?: readonly (typeof ACCESS_TOKEN_ALGORITHMS)[number][]
  /** Seconds of clock skew accepted on `exp`/`nbf`/`iat`. @defaultValue 5 */
  readonly clockToleranceSeconds?: number
  /** Refuse tokens older than this (by `iat`). @defaultValue 86400 */
  readonly maxTokenAgeSeconds?: number
  /** Minimum time between two JWKS fetches triggered by an unknown `kid`. @defaultValue 30000 */
  readonly jwksCooldownMs?: number
  /** How long fetched keys are trusted before a refetch. @defaultValue 600000 */
  readonly jwksCacheMaxAgeMs?: number
  /** Timeout of one JWKS fetch. @defaultValue 5000 */
  readonly jwksTimeoutMs?: number
  /**
   * Remember verified tokens (by SHA-256) so a token presented again skips the signature check; a hit
   * still needs the key source to return the same key, so rotation and retirement take effect as before.
   * `false` verifies every time. @defaultValue `{ maxEntries: 10000, maxTtlSeconds: 300 }`
   */
  readonly cache?: VerifiedTokenCacheOptions | false
  /**
   * Refuse tokens of revoked sessions, of users whose tokens were revoked, and of retired keys, checked on every
   * call (remembered tokens too) against the runner's list (`ServiceContext.revocations`). A key retirement
   * heard on the list also reloads a remote JWKS at once. @defaultValue no revocation check
   */
  readonly revocations?: RevocationList
}

const MAX_TOKEN_LENGTH = 8192
const SEGMENT = /^[A-Za-z0-9_-]+$/
/** Key ids are short opaque identifiers; anything else (paths, SQL, megabytes) is refused before lookup. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'] as const
const OPTIONAL_STRING_CLAIMS = ['tid', 'did', 'scope'] as const

const refuse = (message: string, cause?: unknown): never => {
  throw new TokenError(message, cause === undefined ? undefined : { cause })
}

/** Structural checks done before any key lookup or crypto. */
const checkShape = (token: unknown, algorithms: readonly string[]): JWSHeaderParameters => {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return refuse('token is missing or malformed')
  }
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return refuse('token is malformed')
  let header: JWSHeaderParameters
  try {
    header = decodeProtectedHeader(token) as JWSHeaderParameters
  } catch (cause) {
    return refuse('token header is malformed', cause)
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) refuse(`token header "${name}" is not accepted`)
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    refuse('token algorithm is not allowed')
  }
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) refuse('token key id is invalid')
  return header
}

const toPrincipal = (claims: JWTPayload): UserPrincipal => {
  const { sub, sid } = claims
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200)
    return refuse('token subject is invalid')
  if (typeof sid !== 'string' || sid.length === 0 || sid.length > 200)
    return refuse('token session is invalid')
  for (const name of OPTIONAL_STRING_CLAIMS) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string')
      refuse(`token claim "${name}" is invalid`)
  }
  const scope = typeof claims.scope === 'string' ? claims.scope : ''
  return {
    kind: 'user',
    userId: sub,
    ...(typeof claims.tid === 'string' ? { tenantId: claims.tid } : {}),
    scopes: scope.split(' ').filter((s) => s.length > 0),
    sessionId: sid,
    ...(typeof claims.did === 'string' ? { deviceId: claims.did } : {}),
    claims,
  }
}

/** The key lookup, and how to refetch the keys now (a remote JWKS only). */
const resolverOf = (
  options: AccessTokenVerifierOptions,
): { resolveKey: AccessTokenKeyResolver; reload?: () => Promise<void> } => {
  if (options.resolveKey) return { resolveKey: options.resolveKey }
  if (options.jwks) return { resolveKey: createLocalJWKSet(options.jwks) }
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  })
  return { resolveKey: remote, reload: () => remote.reload() }
}

/**
 * Creates a verifier for user access tokens. With `jwksUrl` the keys are cached and refetched when a
 * token names an unknown `kid` (at most once per `jwksCooldownMs`), so key rotation needs no restart.
 * @example
 * const verifier = createAccessTokenVerifier({ jwksUrl: 'http://127.0.0.1:3001/.well-known/jwks.json' })
 * const user = await verifier.verify(bearerToken) // { kind: 'user', userId, sessionId, scopes, … }
 */
export const createAccessTokenVerifier = (options: AccessTokenVerifierOptions): AccessTokenVerifier => {
  const algorithms = [...(options.algorithms ?? ACCESS_TOKEN_ALGORITHMS)]
  const { resolveKey, reload } = resolverOf(options)
  const { revocations } = options
  // An emergency retirement usually comes with a new signing key: fetch it now rather than after the cooldown.
  if (revocations && reload) revocations.onKeysRetired(() => void reload().catch(() => undefined))
  // Subscribe now, so the first requests are answered from memory rather than by the Redis fallback.
  revocations?.start()
  const tolerance = options.clockToleranceSeconds ?? 5
  const maxAge = options.maxTokenAgeSeconds ?? 86_400
  const limits = { toleranceSeconds: tolerance, maxAgeSeconds: maxAge + tolerance }
  const cache = options.cache === false ? undefined : createVerifiedTokenCache<UserPrincipal>(options.cache)
  // The full check, run only when the token is not remembered.
  const verifyFully = async (token: string, resolve: AccessTokenKeyResolver) => {
    checkShape(token, algorithms)
    const { payload } = await jwtVerify(token, resolve, {
      algorithms,
      issuer: options.issuer ?? 'flotilla-auth',
      audience: options.audience ?? 'flotilla',
      requiredClaims: [...REQUIRED_ACCESS_TOKEN_CLAIMS],
      typ: ACCESS_TOKEN_TYPE,
      clockTolerance: tolerance,
      maxTokenAge: maxAge + tolerance,
    })
    return { value: toPrincipal(payload), claims: payload }
  }
  return {
    async verify(token: string): Promise<UserPrincipal> {
      // Bounded before it is hashed for the cache; the rest of the shape checks run only when the token is not
      // remembered (a remembered token passed them when it verified, and the same text passes them again).
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        return refuse('token is missing or malformed')
      }
      // The kid the token was checked with (the cache and jose both ask the resolver), for the revocation check.
      let kid: string | undefined
      const resolveNoting: AccessTokenKeyResolver = revocations
        ? (header) => {
            kid = header.kid
            return resolveKey(header)
          }
        : resolveKey
      let principal: UserPrincipal
      try {
        // A remembered token whose key resolves at once is answered without a promise.
        const result = verifyRemembering(cache, token, resolveNoting, limits, (resolve) =>
          verifyFully(token, resolve),
        )
        principal = result instanceof Promise ? await result : result
      } catch (cause) {
        if (cause instanceof TokenError) throw cause
        const reason = cause instanceof joseErrors.JOSEError ? cause.code : 'ERR_JWT_MALFORMED'
        return refuse(`token refused (${reason})`, cause)
      }
      if (!revocations) return principal
      // After the cache, on every call: a remembered token of a session revoked since is refused too.
      const { iat } = principal.claims
      const answer = revocations.check({
        ...(kid === undefined ? {} : { kid }),
        sid: principal.sessionId,
        sub: principal.userId,
        ...(typeof iat === 'number' ? { iat } : {}),
      })
      const revoked = answer instanceof Promise ? await answer : answer
      return revoked ? refuse(`token refused (${revoked})`) : principal
    },
  }
}
