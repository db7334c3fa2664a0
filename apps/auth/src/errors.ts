/** Error codes of the auth service, as data: a status, a machine-readable code and optional details. */

/** An error the HTTP layer renders as `{ error: { code, message, details } }` with its status. */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: {
      readonly details?: unknown
      readonly retryAfterSeconds?: number
      readonly cause?: unknown
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
  }
}

/** Every code this service answers with, for Swagger and clients. */
export const ERROR_CODES = {
  UNAUTHORIZED: 'missing, malformed or refused bearer token',
  INVALID_REFRESH_TOKEN: 'the refresh token is malformed, unknown, expired or its session was revoked',
  REFRESH_TOKEN_REUSED: 'a spent refresh token was presented again: the whole family was revoked',
  REFRESH_IN_PROGRESS: 'a concurrent refresh with the same token has not finished: retry with the same token',
  SESSION_EXPIRED: 'the session passed its idle or absolute lifetime',
  NOT_FOUND: 'no such session or device for this user',
  RATE_LIMITED: 'too many requests: wait `Retry-After` seconds',
  VALIDATION: 'the request body or query is invalid',
} as const
export type ErrorCode = keyof typeof ERROR_CODES

export const unauthorized = (message = 'authentication required', cause?: unknown) =>
  new AuthError(401, 'UNAUTHORIZED', message, { cause })
export const notFound = (message: string) => new AuthError(404, 'NOT_FOUND', message)
export const tooManyRequests = (retryAfterSeconds: number) =>
  new AuthError(429, 'RATE_LIMITED', 'too many requests', {
    retryAfterSeconds,
    details: { retryAfterSeconds },
  })
