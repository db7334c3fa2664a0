/** What the monolith needs from the auth service: sessions at login, and access-token checks. */

/** Per-request context handed on to every service call and event. */
export interface RequestContext {
  readonly correlationId: string
  readonly traceparent: string
  readonly ip?: string
  readonly userAgent?: string
}

export interface SessionTokens {
  readonly sessionId: string
  readonly accessToken: string
  readonly refreshToken: string
  readonly accessTokenExpiresAt: string
  readonly device: { readonly id: string; readonly isNew: boolean } | null
}

export type Introspection =
  | { readonly active: false }
  | { readonly active: true; readonly userId: string; readonly sessionId: string }

export interface AuthGateway {
  /** Opens a session (auth publishes `auth.session.created`, and `auth.device.added` for a new device). */
  createSession(
    input: { readonly userId: string; readonly device?: { readonly id?: string; readonly name?: string } },
    context: RequestContext,
  ): Promise<SessionTokens>
  /** Checks an access token against its session (revoked sessions are inactive at once). */
  introspect(token: string, context: RequestContext): Promise<Introspection>
}
