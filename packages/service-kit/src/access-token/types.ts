/** Shapes shared by every user access-token verifier (aligned with the kit's `auth/` principal types). */
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

/** Verifies a user access token; throws `TokenError` (401) on anything wrong, never a 500. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<UserPrincipal>
}
