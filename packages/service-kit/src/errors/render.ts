/** Maps anything thrown during a request to one status, headers and `{ error: { code, message, details } }`. */
import { ContractError } from '@flotilla/contracts'
import { isRedisUnavailableError } from '@flotilla/streams'
import { ElysiaCustomStatusResponse } from 'elysia'
import { AppError, dependencyUnavailable, type ErrorBody } from './app-error.ts'

export interface RenderedError {
  readonly status: number
  readonly body: ErrorBody
  readonly headers: Readonly<Record<string, string>>
  /** True when the error is ours to fix (5xx): log it with the stack. */
  readonly unexpected: boolean
}

/**
 * One field problem in a 422: a JSON pointer and a message (never the offending value). `in` names the
 * request part when it is not the body (`query`, `params`, `headers`, `cookie`).
 */
export interface FieldProblem {
  readonly path: string
  readonly message: string
  readonly in?: string
}

interface ValidationLike {
  readonly type?: string
  readonly all?: readonly { path?: string; message?: string }[]
}

const body = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
})

const isTokenError = (error: unknown): error is Error =>
  error instanceof Error &&
  error.name === 'TokenError' &&
  (error as { code?: unknown }).code === 'INVALID_TOKEN'

const STATUS_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  410: 'GONE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
}

const fieldProblems = (error: ValidationLike): FieldProblem[] => {
  // 'property' comes from Elysia's per-value coercion and names no request part.
  const where = error.type && error.type !== 'body' && error.type !== 'property' ? error.type : undefined
  return (error.all ?? []).map((problem) => ({
    path: problem.path || '/',
    message: problem.message ?? 'is invalid',
    ...(where ? { in: where } : {}),
  }))
}

const fromStatusResponse = (error: ElysiaCustomStatusResponse<number, unknown>): RenderedError => {
  const status = Number(error.code)
  const response = error.response
  if (response && typeof response === 'object' && 'error' in response) {
    return { status, body: response as ErrorBody, headers: {}, unexpected: status >= 500 }
  }
  const code = STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'ERROR')
  const message =
    typeof response === 'string' && status < 500 ? response : code.toLowerCase().replaceAll('_', ' ')
  return { status, body: body(code, message), headers: {}, unexpected: status >= 500 }
}

/**
 * Renders an error. `code` is Elysia's error code (`VALIDATION`, `PARSE`, `NOT_FOUND`…) when it has one.
 * Unknown errors become 500 `INTERNAL` with a generic message: their text may hold internals.
 */
export const renderError = (code: string | number, error: unknown): RenderedError => {
  // Elysia wraps whatever a parse hook throws (our 413 / 415) in a ParseError.
  if (code === 'PARSE' && error instanceof Error && error.cause instanceof AppError) {
    return renderError('UNKNOWN', error.cause)
  }
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: error.toBody(),
      headers: error.headers,
      unexpected: error.status >= 500,
    }
  }
  if (isTokenError(error)) {
    return {
      status: 401,
      body: body('INVALID_TOKEN', 'the token is missing, malformed, expired or not meant for this service'),
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      unexpected: false,
    }
  }
  if (error instanceof ContractError) {
    return {
      status: 422,
      body: body(error.code, error.message, error.problems),
      headers: {},
      unexpected: false,
    }
  }
  if (error instanceof ElysiaCustomStatusResponse) return fromStatusResponse(error)
  // Redis unreachable or too slow (connection refused, offline, command timeout): the caller may retry, it is
  // not our bug — 503, logged as a warning by the app's onError, never a 500 after the client's retries.
  if (isRedisUnavailableError(error) || (error instanceof Error && isRedisUnavailableError(error.cause))) {
    return renderError(code, dependencyUnavailable('redis', { cause: error }))
  }
  switch (code) {
    case 'VALIDATION':
      // A response that breaks its own schema is our bug, not the caller's: 500, logged with its details.
      if ((error as ValidationLike).type === 'response')
        return { status: 500, body: body('INTERNAL', 'internal error'), headers: {}, unexpected: true }
      return {
        status: 422,
        body: body('VALIDATION_FAILED', 'the request is invalid', fieldProblems(error as ValidationLike)),
        headers: {},
        unexpected: false,
      }
    case 'PARSE':
      return {
        status: 400,
        body: body('MALFORMED_JSON', 'the request body could not be parsed'),
        headers: {},
        unexpected: false,
      }
    case 'NOT_FOUND':
      return { status: 404, body: body('NOT_FOUND', 'no such route'), headers: {}, unexpected: false }
    case 'INVALID_COOKIE_SIGNATURE':
      return {
        status: 400,
        body: body('INVALID_COOKIE', 'a cookie signature is invalid'),
        headers: {},
        unexpected: false,
      }
    case 'INVALID_FILE_TYPE':
      return {
        status: 422,
        body: body('INVALID_FILE_TYPE', 'a file has an unexpected type'),
        headers: {},
        unexpected: false,
      }
    default:
      return {
        status: 500,
        body: body('INTERNAL', 'an internal error occurred'),
        headers: {},
        unexpected: true,
      }
  }
}
