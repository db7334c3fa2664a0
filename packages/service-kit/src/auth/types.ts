/** Who is calling: another service (service token) or a signed-in user (access token from the auth service). */
import type { JWTPayload } from 'jose'

/** A signed-in user, as proven by an access token issued by the auth service. */
export interface UserPrincipal {
  readonly kind: 'user'
  readonly userId: string
  readonly tenantId?: string
  readonly scopes: string[]
  readonly sessionId: string
  readonly deviceId?: string
  /** Every verified claim, for callers that need more (`jti`, `exp`…). */
  readonly claims: JWTPayload
}

/**
 * Verifies a user access token (`typ: at+jwt`); throws `TokenError` (401) on anything wrong, never a 500.
 * Implemented by `createAccessTokenVerifier` (JWKS) in `src/access-token/`.
 */
export interface AccessTokenVerifier {
  verify(token: string): Promise<UserPrincipal>
}

/** Verifies a service token; the contracts package's `createServiceTokenVerifier` is one. */
export interface ServiceVerifier {
  verify(token: string): Promise<{ readonly service: string }>
}

/** A caller proven by a service token. */
export interface ServiceCaller {
  readonly kind: 'service'
  readonly service: string
}

/** A caller proven by a user access token. */
export interface UserCaller {
  readonly kind: 'user'
  readonly userId: string
  readonly tenantId?: string
  readonly scopes: readonly string[]
  readonly sessionId: string
  readonly deviceId?: string
}

export type Caller = ServiceCaller | UserCaller
