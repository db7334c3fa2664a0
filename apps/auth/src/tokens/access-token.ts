/** Issues user access tokens (RFC 9068 `at+jwt`, EdDSA) and verifies them with the kit's verifier. */
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  type RevocationList,
} from '@flotilla/service-kit'
import { SignJWT } from 'jose'
import type { KeyRing } from '../keys/key-ring.ts'

/** What a session puts into its access tokens. */
export interface AccessTokenSubject {
  readonly userId: string
  readonly sessionId: string
  readonly tenantId?: string
  readonly deviceId?: string
  readonly scopes: readonly string[]
}

export interface AccessTokenOptions {
  readonly keyRing: KeyRing
  readonly issuer: string
  readonly audience: string
  readonly ttlSeconds: number
  readonly clockToleranceSeconds: number
  /** Refuse keys retired (and sessions revoked) by any auth instance, as the other services do. */
  readonly revocations?: RevocationList
}

// jose turns a throw from the resolver into a refusal; the kit maps it to a TokenError (401).
const known = (key: CryptoKey | undefined): CryptoKey => {
  if (!key) throw new Error('unknown key id')
  return key
}

/** Signs and verifies access tokens with the shared key ring. */
export const createAccessTokens = (options: AccessTokenOptions) => {
  const { keyRing, issuer, audience } = options
  const verifier: AccessTokenVerifier = createAccessTokenVerifier({
    // Answers at once for a key already imported (every cached token's check asks), else a promise.
    resolveKey: (header) => {
      const key = typeof header.kid === 'string' ? keyRing.publicKey(header.kid) : undefined
      return key instanceof Promise ? key.then(known) : known(key)
    },
    issuer,
    audience,
    algorithms: ['EdDSA'],
    clockToleranceSeconds: options.clockToleranceSeconds,
    maxTokenAgeSeconds: options.ttlSeconds,
    ...(options.revocations ? { revocations: options.revocations } : {}),
  })
  return {
    verifier,
    /**
     * Signs an access token for a session. `notAfter` (ms) caps its lifetime at the session's absolute
     * expiry. Returns the token and its expiry (seconds since epoch).
     */
    async issue(
      subject: AccessTokenSubject,
      notAfter: number,
    ): Promise<{ token: string; expiresAt: number }> {
      const key = await keyRing.signingKey()
      const iat = Math.floor(Date.now() / 1000)
      const exp = Math.min(iat + options.ttlSeconds, Math.floor(notAfter / 1000))
      const claims: Record<string, unknown> = { sid: subject.sessionId, scope: subject.scopes.join(' ') }
      if (subject.tenantId !== undefined) claims.tid = subject.tenantId
      if (subject.deviceId !== undefined) claims.did = subject.deviceId
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject.userId)
        .setJti(crypto.randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key.privateKey)
      return { token, expiresAt: exp }
    },
  }
}
export type AccessTokens = ReturnType<typeof createAccessTokens>
