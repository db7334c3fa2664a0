/** Error codes of the auth service, as data (the kit's `AppError`, rendered as `{ error: { code, message, details } }`). */
import { AppError } from '@flotilla/service-kit'
import { t } from 'elysia'

export { AppError }

/** Every code this service answers with, for Swagger and clients. */
export const ERROR_CODES = {
  INVALID_CURSOR:
    'the cursor is not a nextCursor this API issued (malformed, of another version, or altered)',
  INVALID_TOKEN: 'missing, malformed or refused bearer token (or the session of a user token has ended)',
  INVALID_REFRESH_TOKEN: 'the refresh token is malformed, unknown, or its session was revoked or has expired',
  REFRESH_TOKEN_REUSED: 'a spent refresh token was presented again: its whole family (session) was revoked',
  REFRESH_IN_PROGRESS:
    'a concurrent refresh with the same token is finishing: retry with the same token after Retry-After',
  SESSION_EXPIRED: 'the session passed its idle or absolute lifetime',
  NOT_FOUND: 'no such session or device for this user (another user’s data is never shown)',
  RATE_LIMITED: 'too many requests: wait Retry-After seconds',
  VALIDATION_FAILED: 'the request body, query or path is invalid (details list each problem)',
  PAYLOAD_TOO_LARGE: 'the request body is larger than the limit',
  UNSUPPORTED_MEDIA_TYPE: 'the request body has an unsupported content type',
} as const
export type ErrorCode = keyof typeof ERROR_CODES

/** `{ error: { code, message, details } }`, for response schemas. */
export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({ examples: ['INVALID_REFRESH_TOKEN'] }),
      message: t.String(),
      details: t.Optional(t.Unknown()),
    }),
  },
  {
    examples: [
      {
        error: {
          code: 'RATE_LIMITED',
          message: 'too many requests, retry later',
          details: { retryAfterSeconds: 12 },
        },
      },
    ],
  },
)

/** A markdown list of the error codes a route can answer with (route descriptions in Swagger). */
export const errorList = (...codes: ErrorCode[]) =>
  `\n\nErrors:\n${codes.map((code) => `- \`${code}\`: ${ERROR_CODES[code]}`).join('\n')}`

export const authError = (status: number, code: ErrorCode, message: string, retryAfterSeconds?: number) =>
  new AppError(status, code, message, {
    ...(retryAfterSeconds === undefined
      ? {}
      : { headers: { 'retry-after': String(retryAfterSeconds) }, details: { retryAfterSeconds } }),
  })

export const notFound = (message: string) => authError(404, 'NOT_FOUND', message)

/** 429 `RATE_LIMITED` with `Retry-After`. */
export const tooManyRequests = (retryAfterSeconds: number) =>
  authError(429, 'RATE_LIMITED', 'too many requests, retry later', Math.max(1, Math.ceil(retryAfterSeconds)))
