/** The typed HTTP client for the auth service (Eden treaty over the auth app's own type). */
import type { Treaty } from '@elysiajs/eden'
// `@flotilla/auth` in the workspace; a general Elysia type in the packed SDK (see package.json "imports").
import type { AuthApp } from '#auth-app'
import { createServiceTreaty, type ServiceTreatyOptions } from './service-treaty.ts'

export type AuthClientOptions = Omit<ServiceTreatyOptions, 'audience'>

// Introspection only reads, so it may be sent again; opening a session may not (it would open two).
const isIdempotentAuthCall = (method: string, url: URL) =>
  ['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase()) ||
  (method.toUpperCase() === 'POST' && url.pathname.endsWith('/v1/tokens/introspect'))

/**
 * A client for auth whose every route, body and response is typed from `AuthApp`; each request carries a
 * current service token (audience `auth`). Calls time out, token introspection is retried, and repeated
 * failures open a circuit breaker: a call auth cannot serve rejects with `ServiceUnavailableError`.
 * @example
 * const auth = createAuthClient({ baseUrl: config.AUTH_URL, signer: createServiceTokens(config) })
 * const { data, error } = await auth.v1.sessions.post({ userId, device: { id: 'ios-7f3a' } })
 */
export const createAuthClient = (options: AuthClientOptions): Treaty.Create<AuthApp> =>
  createServiceTreaty<AuthApp>({
    ...options,
    audience: 'auth',
    resilience:
      options.resilience === false ? false : { isIdempotent: isIdempotentAuthCall, ...options.resilience },
  })

/** The client's type, for dependency injection. */
export type AuthClient = ReturnType<typeof createAuthClient>
