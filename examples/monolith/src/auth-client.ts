/** The AuthGateway over the auth service's typed Eden client (from @flotilla/sdk). */
import { type AuthClient, ServiceUnavailableError } from '@flotilla/sdk'
import type { AuthGateway, RequestContext } from './auth-gateway.ts'
import { HttpError } from './errors.ts'

const headersOf = (ctx: RequestContext) => ({
  headers: {
    'x-correlation-id': ctx.correlationId,
    traceparent: ctx.traceparent,
    ...(ctx.userAgent ? { 'user-agent': ctx.userAgent } : {}),
  },
})

// Auth being down or refusing us is our failure, not the user's: 503 with a code the client can retry on.
// A call the SDK's client could not make at all (timeout, circuit open, unreachable) arrives from Eden as
// status 503 with the SDK's ServiceUnavailableError as its value: its reason goes into the details.
const unavailable = (what: string, status: number, cause: unknown) =>
  cause instanceof ServiceUnavailableError
    ? new HttpError(503, 'AUTH_UNAVAILABLE', `auth could not ${what}: ${cause.message}`, {
        reason: cause.reason,
        ...(cause.retryAfterMs === undefined ? {} : { retryAfterMs: cause.retryAfterMs }),
      })
    : new HttpError(503, 'AUTH_UNAVAILABLE', `auth could not ${what} (status ${status})`, {
        cause: String(cause),
      })

/** Wraps the Eden client in the two calls the monolith makes. */
export const createAuthGateway = (client: AuthClient): AuthGateway => ({
  async createSession({ userId, device }, ctx) {
    const { data, error, status } = await client.v1.sessions.post(
      {
        userId,
        ...(device || ctx.ip || ctx.userAgent
          ? {
              device: {
                ...device,
                ...(ctx.ip ? { ip: ctx.ip } : {}),
                ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
              },
            }
          : {}),
      },
      headersOf(ctx),
    )
    if (!data) throw unavailable('open a session', status, error?.value)
    return {
      sessionId: data.sessionId,
      accessToken: data.accessToken,
      refreshToken: data.refreshToken,
      // Eden turns ISO date strings into Date objects at run time, although the type says string.
      accessTokenExpiresAt: new Date(data.accessTokenExpiresAt as string | Date).toISOString(),
      device: data.device,
    }
  },

  async introspect(token, ctx) {
    const { data, error, status } = await client.v1.tokens.introspect.post({ token }, headersOf(ctx))
    if (!data) throw unavailable('check the token', status, error?.value)
    return data.active ? { active: true, userId: data.sub, sessionId: data.sid } : { active: false }
  },
})
