/** Per-request context: correlation id and trace context in, handed on to auth calls and events. */
import { continueTrace } from '@flotilla/sdk'
import { Elysia } from 'elysia'
import type { AuthGateway, RequestContext } from './auth-gateway.ts'
import { unauthorized } from './errors.ts'

const CORRELATION_ID = /^[A-Za-z0-9_.:-]{1,128}$/

/** Derives `ctx` (correlation id, traceparent, client ip and agent) and echoes the ids in the response. */
export const requestContext = new Elysia({ name: 'monolith/request-context' }).derive(
  { as: 'global' },
  ({ request, server, set }): { ctx: RequestContext } => {
    const given = request.headers.get('x-correlation-id')
    const correlationId = given && CORRELATION_ID.test(given) ? given : crypto.randomUUID()
    const { traceparent } = continueTrace(request.headers.get('traceparent'))
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim()
    const ip = forwarded || server?.requestIP(request)?.address
    const userAgent = request.headers.get('user-agent') ?? undefined
    set.headers['x-correlation-id'] = correlationId
    set.headers.traceparent = traceparent
    return {
      ctx: {
        correlationId,
        traceparent,
        ...(ip ? { ip: ip.slice(0, 45) } : {}),
        ...(userAgent ? { userAgent: userAgent.slice(0, 1000) } : {}),
      },
    }
  },
)

/** Resolves the signed-in user by asking auth to introspect the bearer token (revocations apply at once). */
export const currentSession = async (
  auth: AuthGateway,
  authorization: string | undefined,
  ctx: RequestContext,
): Promise<{ userId: string; sessionId: string }> => {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : ''
  if (!token) throw unauthorized()
  const result = await auth.introspect(token, ctx)
  if (!result.active) throw unauthorized('the session has ended or the token is invalid')
  return { userId: result.userId, sessionId: result.sessionId }
}

/** The signed-in user's id (see `currentSession`). */
export const currentUser = async (
  auth: AuthGateway,
  authorization: string | undefined,
  ctx: RequestContext,
) => (await currentSession(auth, authorization, ctx)).userId
