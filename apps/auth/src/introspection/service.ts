/** Token introspection (RFC 7662): active only when the token verifies and its session is live. */
import { TokenError } from '@flotilla/contracts'
import type { UserPrincipal } from '@flotilla/service-kit'
import { type AuthObserver, noopObserver } from '../observe.ts'
import type { SessionStore } from '../sessions/store.ts'
import type { AccessTokens } from '../tokens/access-token.ts'
import type { IntrospectionGate } from './gate.ts'
import type { IntrospectionResult } from './model.ts'

/** Verifies an access token and checks its session in Redis, so a revocation takes effect at once. */
export const createTokenChecker = (
  tokens: AccessTokens,
  sessions: SessionStore,
  observer: AuthObserver = noopObserver,
) => {
  /** The principal of a valid token of a live session; throws TokenError (401) otherwise. */
  const authenticate = async (token: string): Promise<UserPrincipal> => {
    const principal = await tokens.verifier.verify(token)
    return liveSession(principal, await sessions.liveUserId(principal.sessionId))
  }
  const liveSession = (principal: UserPrincipal, sessionUserId: string | undefined) => {
    if (sessionUserId === undefined || sessionUserId !== principal.userId)
      throw new TokenError('the session of this token has ended')
    return principal
  }
  // A token that fails verification still counts against the client's ip before the answer.
  const verifyOrCount = async (token: string, client?: { gate: IntrospectionGate; ip: string }) => {
    try {
      return await tokens.verifier.verify(token)
    } catch (error) {
      if (client) await client.gate.unverified(client.ip)
      throw error
    }
  }
  return {
    authenticate,
    /**
     * The RFC 7662 answer for any input; never throws on a bad token. With a `client` (its gate and ip), the
     * rate limits are counted too — per user only once the signature has verified, so forged tokens cannot
     * spend a victim's budget — and a spent limit throws its 429.
     */
    async introspect(
      token: string,
      client?: { readonly gate: IntrospectionGate; readonly ip: string },
    ): Promise<IntrospectionResult> {
      let principal: UserPrincipal
      try {
        const verified = await verifyOrCount(token, client)
        const sessionUserId = client
          ? await client.gate.verified(client.ip, verified.userId, verified.sessionId)
          : await sessions.liveUserId(verified.sessionId)
        principal = liveSession(verified, sessionUserId)
      } catch (error) {
        if (error instanceof TokenError) {
          observer.introspected(false)
          return { active: false }
        }
        throw error
      }
      observer.introspected(true)
      const c = principal.claims
      return {
        active: true,
        token_type: 'access_token',
        sub: principal.userId,
        sid: principal.sessionId,
        scope: principal.scopes.join(' '),
        exp: c.exp as number,
        iat: c.iat as number,
        iss: c.iss as string,
        aud: c.aud as string | string[],
        jti: c.jti as string,
        ...(principal.tenantId ? { tenantId: principal.tenantId } : {}),
        ...(principal.deviceId ? { deviceId: principal.deviceId } : {}),
      }
    },
  }
}
export type TokenChecker = ReturnType<typeof createTokenChecker>
