/** Error codes of the auth service, as data (the kit's `AppError`, rendered as `{ error: { code, message, details } }`). */
import { AppError, COMMON_ERROR_CODES, defineErrorCodes, ErrorBody } from '@flotilla/service-kit'

export { AppError, ErrorBody }

/** Every code this service answers with, for Swagger and clients. */
export const ERRORS = defineErrorCodes({
  ...COMMON_ERROR_CODES,
  INVALID_TOKEN: 'missing, malformed or refused bearer token (or the session of a user token has ended)',
  INVALID_REFRESH_TOKEN: 'the refresh token is malformed, unknown, or its session was revoked or has expired',
  REFRESH_TOKEN_REUSED: 'a spent refresh token was presented again: its whole family (session) was revoked',
  REFRESH_IN_PROGRESS:
    'a concurrent refresh with the same token is finishing: retry with the same token after Retry-After',
  SESSION_EXPIRED: 'the session passed its idle or absolute lifetime',
  NOT_FOUND: 'no such session or device for this user (another user’s data is never shown)',
})
export const ERROR_CODES = ERRORS.codes
export type ErrorCode = keyof typeof ERROR_CODES

/** A markdown list of the error codes a route can answer with (route descriptions in Swagger). */
export const errorList = ERRORS.errorList

export const authError = (status: number, code: ErrorCode, message: string, retryAfterSeconds?: number) =>
  ERRORS.error(status, code, message, {
    ...(retryAfterSeconds === undefined
      ? {}
      : { headers: { 'retry-after': String(retryAfterSeconds) }, details: { retryAfterSeconds } }),
  })

export const notFound = (message: string) => authError(404, 'NOT_FOUND', message)

/** 429 `RATE_LIMITED` with `Retry-After`. */
export const tooManyRequests = (retryAfterSeconds: number) =>
  authError(429, 'RATE_LIMITED', 'too many requests, retry later', Math.max(1, Math.ceil(retryAfterSeconds)))
