/** The typed HTTP client for the auth service (Eden treaty over the auth app's own type). */
import type { AuthApp } from '@flotilla/auth'
import { createServiceClient, type ServiceClientOptions } from './service-client.ts'

export type AuthClientOptions = Omit<ServiceClientOptions, 'audience'>

/**
 * A client for auth whose every route, body and response is typed from `AuthApp`; each request carries a
 * fresh service token (audience `auth`).
 * @example
 * const auth = createAuthClient({ baseUrl: config.AUTH_URL, signer: createServiceTokens(config) })
 * const { data, error } = await auth.v1.sessions.post({ userId, device: { id: 'ios-7f3a' } })
 */
export const createAuthClient = (options: AuthClientOptions) =>
  createServiceClient<AuthApp>({ ...options, audience: 'auth' })

/** The client's type, for dependency injection. */
export type AuthClient = ReturnType<typeof createAuthClient>
