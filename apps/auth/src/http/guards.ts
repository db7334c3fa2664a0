/** Who may call what: service tokens for service routes, a user's own live-session token for their own data. */
import { createServiceTokenVerifier, type KeyRing as ServiceKeyRing } from '@flotilla/contracts'
import { type AccessTokenVerifier, type Caller, callerAuth, serviceAuth } from '@flotilla/service-kit'
import { notFound } from '../errors.ts'

/** The service name service tokens must be addressed to. */
const AUDIENCE = 'auth'

export interface Guards {
  /** Service token only. */
  readonly service: ReturnType<typeof serviceAuth>
  /** Service token, or the access token of a live session. */
  readonly caller: ReturnType<typeof callerAuth>
}

/** Builds both guards from the service-token key ring and the live-session access-token check. */
export const createGuards = (serviceKeys: ServiceKeyRing, userTokens: AccessTokenVerifier): Guards => {
  const serviceVerifier = createServiceTokenVerifier(serviceKeys, { audience: AUDIENCE })
  return {
    service: serviceAuth({ verifier: serviceVerifier }),
    caller: callerAuth({ serviceVerifier, accessTokenVerifier: userTokens }),
  }
}

/**
 * Services may act for any user; a user only for themselves. Anything else is a 404, so another user's
 * sessions and devices cannot even be confirmed to exist (BOLA).
 */
export const assertActsFor = (caller: Caller, userId: string): void => {
  if (caller.kind === 'user' && caller.userId !== userId) throw notFound('no such user sessions')
}

/** The actor of a caller, for the events it causes. */
export const actorOf = (caller: Caller) =>
  caller.kind === 'user' ? { type: 'user', id: caller.userId } : { type: 'service', id: caller.service }
