/** Session routes: create (service), refresh (public, rate-limited), list and revoke (service or the user). */
import { Elysia, t } from 'elysia'
import { ErrorBody, errorList, notFound } from '../errors.ts'
import { jsonBody } from '../http/body.ts'
import { actorOf, assertActsFor, type Guards } from '../http/guards.ts'
import { causeOf, clientIp } from '../http/request-info.ts'
import { userPageOptions } from '../http/user-page.ts'
import type { RateLimits } from '../rate-limit/rate-limit.ts'
import {
  CreatedSession,
  CreateSessionBody,
  RefreshBody,
  RevokedCount,
  RevokeOthersQuery,
  SessionId,
  SessionPage,
  sessionCursor,
  TokenPair,
  UserId,
} from './model.ts'
import type { SessionService } from './service.ts'
import { toSessionView } from './view.ts'

export interface SessionRouteDeps {
  readonly sessions: SessionService
  readonly guards: Guards
  readonly rateLimits: RateLimits
  /** Header holding the client ip when behind a trusted proxy. */
  readonly trustedProxyHeader?: string
}

const bearer = [{ bearer: [] }]

/** `POST /v1/sessions/refresh`: no service token, clients call it with their refresh token. */
export const refreshRoutes = ({ sessions, rateLimits, trustedProxyHeader }: SessionRouteDeps) =>
  new Elysia({ name: 'auth/refresh' }).post(
    '/v1/sessions/refresh',
    async ({ body, request, server }) => {
      const ip = clientIp(request, server, trustedProxyHeader)
      await rateLimits.hit('refresh:ip', ip)
      const userId = await sessions.userOfRefreshToken(body.refreshToken)
      if (userId) await rateLimits.hit('refresh:user', userId)
      const userAgent = request.headers.get('user-agent') ?? undefined
      return sessions.refresh(body.refreshToken, {
        ...causeOf(request, userId ? { type: 'user', id: userId } : undefined),
        ...(ip !== 'unknown' ? { ip } : {}),
        ...(userAgent ? { userAgent } : {}),
      })
    },
    {
      body: RefreshBody,
      parse: [...jsonBody],
      response: { 200: TokenPair, 401: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody },
      detail: {
        tags: ['sessions'],
        summary: 'Rotate a refresh token',
        // The refresh token in the body is the credential.
        security: [],
        description: `Spends the refresh token and returns a new access + refresh token pair. Each refresh token works once. Two requests racing with the same token (two tabs) both succeed with the same new pair, or the loser gets a retryable 409; a spent token presented again later revokes the whole session. Rate-limited per client ip and per user.${errorList('INVALID_REFRESH_TOKEN', 'REFRESH_TOKEN_REUSED', 'SESSION_EXPIRED', 'REFRESH_IN_PROGRESS', 'RATE_LIMITED', 'VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE')}`,
      },
    },
  )

/** Session routes behind a service token or the user's own access token. */
export const sessionRoutes = ({ sessions, guards }: SessionRouteDeps) =>
  new Elysia({ name: 'auth/sessions' })
    .use(
      new Elysia()
        .use(guards.service)
        .post(
          '/v1/sessions',
          async ({ body, request, caller, status }) =>
            status(201, await sessions.create(body, causeOf(request, actorOf(caller)))),
          {
            body: CreateSessionBody,
            parse: [...jsonBody],
            response: { 201: CreatedSession, 401: ErrorBody, 422: ErrorBody },
            detail: {
              tags: ['sessions'],
              summary: 'Start a session (after the monolith checked the credentials)',
              description: `Service token (audience \`auth\`) only. Always a new session id. Publishes \`auth.session.created\`, and \`auth.device.added\` the first time this user signs in on the device.${errorList('INVALID_TOKEN', 'VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE')}`,
              security: bearer,
            },
          },
        ),
    )
    .use(guards.caller)
    .delete(
      '/v1/sessions/:sessionId',
      async ({ params, caller, request }) => {
        if (caller.kind === 'user') await sessions.requireOwned(caller.userId, params.sessionId)
        const revoked = await sessions.revoke(params.sessionId, 'logout', causeOf(request, actorOf(caller)))
        if (!revoked) throw notFound('session not found')
        return { revoked: 1 }
      },
      {
        params: t.Object({ sessionId: SessionId }),
        response: { 200: RevokedCount, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['sessions'],
          summary: 'Sign out one session',
          description: `Service token, or the access token of the session's own user. Publishes \`auth.session.revoked\` (\`logout\`); its access tokens stop introspecting as active, and are refused by every service's verifier, at once.${errorList('INVALID_TOKEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE')}`,
          security: bearer,
        },
      },
    )
    .get(
      '/v1/users/:userId/sessions',
      async ({ params, query, caller }) => {
        assertActsFor(caller, params.userId)
        const after = sessionCursor.decodeOptional(query.cursor)
        const page = await sessions.list(params.userId, query.limit ?? 20, after)
        const current = caller.kind === 'user' ? caller.sessionId : undefined
        return {
          items: page.sessions.map((s) => toSessionView(s, current)),
          nextCursor: page.next ? sessionCursor.encode(page.next) : null,
        }
      },
      userPageOptions(SessionPage, {
        tag: 'sessions',
        summary: "List a user's live sessions (newest first, cursor pagination)",
        errors: [
          'INVALID_CURSOR',
          'INVALID_TOKEN',
          'NOT_FOUND',
          'VALIDATION_FAILED',
          'DEPENDENCY_UNAVAILABLE',
        ],
      }),
    )
    .delete(
      '/v1/users/:userId/sessions',
      async ({ params, query, caller, request }) => {
        assertActsFor(caller, params.userId)
        const revoked = await sessions.revokeAllOf(
          params.userId,
          'signed_out_everywhere',
          causeOf(request, actorOf(caller)),
          query.except ? { except: query.except } : {},
        )
        return { revoked: revoked.length }
      },
      {
        params: t.Object({ userId: UserId }),
        query: RevokeOthersQuery,
        response: { 200: RevokedCount, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['sessions'],
          summary: 'Sign out everywhere (or everywhere else with `except`)',
          description: `Revokes every session of the user except \`except\` (usually the caller's own). Publishes \`auth.session.revoked\` (\`signed_out_everywhere\`) per session.${errorList('INVALID_TOKEN', 'NOT_FOUND', 'VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE')}`,
          security: bearer,
        },
      },
    )
