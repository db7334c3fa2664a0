/** Elysia guards: `serviceAuth` for service-only routes, `callerAuth` for "a service, or a user with scope X". */
import { SERVICE_TOKEN_TYPE, TokenError } from '@flotilla/contracts'
import { Elysia } from 'elysia'
import { forbidden } from '../errors/app-error.ts'
import { bearerToken, peekTokenType } from './bearer.ts'
import type { AccessTokenVerifier, Caller, ServiceCaller, ServiceVerifier, UserCaller } from './types.ts'

/** Header `typ` of user access tokens (RFC 9068). */
const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Verifies a service token from the header into a caller; anything wrong is a `TokenError` (401). */
const verifyService = async (verifier: ServiceVerifier, token: string): Promise<ServiceCaller> => {
  const { service } = await verifier.verify(token)
  return { kind: 'service', service }
}

export interface ServiceAuthOptions {
  /** Usually `createServiceTokenVerifier(parseKeyRing(config.SERVICE_TOKEN_SECRET), { audience: 'audit' })`. */
  readonly verifier: ServiceVerifier
}

/**
 * Requires `Authorization: Bearer <service token>` on every route of the instance that uses it, and
 * derives `caller: { kind: 'service', service }`. Missing or bad tokens answer 401 `INVALID_TOKEN`.
 * @example new Elysia().use(serviceAuth({ verifier })).get('/v1/x', ({ caller }) => caller.service)
 */
// No plugin `name`: Elysia deduplicates named plugins, and each use carries its own verifier.
// `derive` (not `resolve`) runs before validation: a caller without a valid token gets 401, never a 422 that
// describes the route's schema.
export const serviceAuth = ({ verifier }: ServiceAuthOptions) =>
  new Elysia().derive({ as: 'scoped' }, async ({ request }) => ({
    caller: await verifyService(verifier, bearerToken(request.headers.get('authorization'))),
  }))

export interface CallerAuthOptions {
  readonly serviceVerifier: ServiceVerifier
  /** Omit to accept service tokens only. */
  readonly accessTokenVerifier?: AccessTokenVerifier
  /** A user's token must carry this scope (403 `INSUFFICIENT_SCOPE` otherwise). Services are not scoped. */
  readonly requiredScope?: string
}

/** Resolves a caller from an `Authorization` header value (exported for consumers outside Elysia). */
export const resolveCaller = async (
  authorization: string | null | undefined,
  { serviceVerifier, accessTokenVerifier, requiredScope }: CallerAuthOptions,
): Promise<Caller> => {
  const token = bearerToken(authorization)
  const typ = peekTokenType(token)
  if (typ === SERVICE_TOKEN_TYPE) return verifyService(serviceVerifier, token)
  if (typ === ACCESS_TOKEN_TYPE && accessTokenVerifier) {
    const user = await accessTokenVerifier.verify(token)
    if (requiredScope && !user.scopes.includes(requiredScope)) {
      throw forbidden(`the access token lacks the ${requiredScope} scope`, {
        code: 'INSUFFICIENT_SCOPE',
        details: { requiredScope },
      })
    }
    const caller: UserCaller = {
      kind: 'user',
      userId: user.userId,
      scopes: user.scopes,
      sessionId: user.sessionId,
      ...(user.tenantId === undefined ? {} : { tenantId: user.tenantId }),
      ...(user.deviceId === undefined ? {} : { deviceId: user.deviceId }),
    }
    return caller
  }
  throw new TokenError('the token type is not accepted here')
}

/**
 * Accepts a service token, or a user access token (with `requiredScope` when given), and derives
 * `caller: { kind: 'service', service } | { kind: 'user', userId, tenantId?, scopes, sessionId, deviceId? }`.
 * The header `typ` only picks the verifier; each verifier checks everything itself.
 */
export const callerAuth = (options: CallerAuthOptions) =>
  new Elysia().derive({ as: 'scoped' }, async ({ request }) => ({
    caller: await resolveCaller(request.headers.get('authorization'), options),
  }))
