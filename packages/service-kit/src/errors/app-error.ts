/** Errors as data: a status, a machine-readable code, a message safe to show, optional details. */
import { t } from 'elysia'

/** One rendered error body, `{ error: { code, message, details? } }`: the schema of every error response. */
export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({
        description: 'machine-readable; listed in the route description',
        examples: ['NOT_FOUND'],
      }),
      message: t.String({ description: 'safe to show; never parsed' }),
      details: t.Optional(t.Unknown({ description: 'extra data of the code (field problems, limits…)' })),
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
export type ErrorBody = typeof ErrorBody.static

export interface AppErrorOptions {
  /** Machine-readable extra data (field problems, limits…), rendered as `details`. */
  readonly details?: unknown
  readonly cause?: unknown
  /** Response headers to send with the error (`Retry-After`, `WWW-Authenticate`…). */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * An error that becomes an HTTP response. Throw it from routes and services; the kit's `onError`
 * renders it as `{ error: { code, message, details } }` with `status`.
 * @example throw new AppError(409, 'EMAIL_TAKEN', 'this email is already registered')
 */
export class AppError extends Error {
  override readonly name = 'AppError'
  readonly status: number
  readonly code: string
  readonly details: unknown
  readonly headers: Readonly<Record<string, string>>

  constructor(status: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
    this.code = code
    this.details = options.details
    this.headers = options.headers ?? {}
  }

  /** The response body for this error. */
  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    }
  }
}

type Extra = Omit<AppErrorOptions, 'headers'>

/** 400 `BAD_REQUEST` (or your own code). */
export const badRequest = (message: string, options: Extra & { code?: string } = {}) =>
  new AppError(400, options.code ?? 'BAD_REQUEST', message, options)

/** 401 `UNAUTHORIZED` with `WWW-Authenticate: Bearer`. */
export const unauthorized = (
  message = 'authentication is required',
  options: Extra & { code?: string } = {},
) =>
  new AppError(401, options.code ?? 'UNAUTHORIZED', message, {
    ...options,
    headers: { 'www-authenticate': 'Bearer' },
  })

/** 403 `FORBIDDEN`. */
export const forbidden = (message = 'not allowed', options: Extra & { code?: string } = {}) =>
  new AppError(403, options.code ?? 'FORBIDDEN', message, options)

/** 404 `NOT_FOUND`. */
export const notFound = (message = 'not found', options: Extra & { code?: string } = {}) =>
  new AppError(404, options.code ?? 'NOT_FOUND', message, options)

/** 409 `CONFLICT`. */
export const conflict = (message: string, options: Extra & { code?: string } = {}) =>
  new AppError(409, options.code ?? 'CONFLICT', message, options)

/** 413 `PAYLOAD_TOO_LARGE`; `details.limitBytes` says the limit. */
export const payloadTooLarge = (limitBytes: number) =>
  new AppError(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${limitBytes} bytes`, {
    details: { limitBytes },
  })

/** 415 `UNSUPPORTED_MEDIA_TYPE`; `details.accepted` lists the accepted types. */
export const unsupportedMediaType = (accepted: readonly string[]) =>
  new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `content type must be one of: ${accepted.join(', ')}`, {
    details: { accepted },
  })

/** 429 `RATE_LIMITED` with `Retry-After` (seconds, rounded up). */
export const tooManyRequests = (retryAfterSeconds: number, options: Extra & { message?: string } = {}) => {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds))
  return new AppError(429, 'RATE_LIMITED', options.message ?? 'too many requests, retry later', {
    details: options.details ?? { retryAfterSeconds: seconds },
    cause: options.cause,
    headers: { 'retry-after': String(seconds) },
  })
}

/**
 * 503 `DEPENDENCY_UNAVAILABLE` with `Retry-After: 1`: a store this request needs (Redis) cannot answer now.
 * `details.dependency` names it; the cause (the client's own error) is logged, never shown.
 */
export const dependencyUnavailable = (dependency: string, options: Pick<Extra, 'cause'> = {}) =>
  new AppError(503, 'DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable, retry shortly`, {
    details: { dependency },
    cause: options.cause,
    headers: { 'retry-after': '1' },
  })
