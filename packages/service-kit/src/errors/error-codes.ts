/**
 * Error codes as data: each app declares the codes it answers with (`code → description`) once, and route
 * descriptions, typed `AppError`s and the tests that check the Swagger document all read that map.
 */
import { AppError, type AppErrorOptions } from './app-error.ts'

/** The codes the kit itself answers with (its `onError`, body limit, guards, cursors, tenant scope). */
export const COMMON_ERROR_CODES = {
  VALIDATION_FAILED: 'the request body, query or path is invalid (details list each problem)',
  MALFORMED_JSON: 'the request body is not JSON',
  PAYLOAD_TOO_LARGE: 'the request body is larger than the limit (details.limitBytes)',
  UNSUPPORTED_MEDIA_TYPE: 'the request body has an unsupported content type (details.accepted)',
  INVALID_TOKEN: 'missing, malformed or refused bearer token',
  INSUFFICIENT_SCOPE: 'the user access token lacks the scope this route needs (details.requiredScope)',
  TENANT_REQUIRED: 'the user access token is bound to no tenant',
  INVALID_CURSOR:
    'the cursor is not a nextCursor this API issued (malformed, of another version, or altered)',
  NOT_FOUND: 'no such resource (or not visible to this caller)',
  RATE_LIMITED: 'too many requests: wait Retry-After seconds',
  DEPENDENCY_UNAVAILABLE:
    'a store this request needs (details.dependency: redis) cannot answer now: retry shortly',
} as const

/** Where a route's error list starts in its description. */
export const ERRORS_HEADING = 'Errors:'

export interface ErrorCodes<C extends Readonly<Record<string, string>>> {
  /** The map itself (frozen): code → what it means. */
  readonly codes: C
  /** Whether `code` is one of these. */
  has(code: string): code is keyof C & string
  /** The markdown error list of a route, to append to its Swagger description (`\n\nErrors:\n- \`CODE\`: …`). */
  errorList(...codes: (keyof C & string)[]): string
  /** A route description: `text` followed by its error list. */
  describe(text: string, ...codes: (keyof C & string)[]): string
  /** An `AppError` with one of these codes. */
  error(status: number, code: keyof C & string, message: string, options?: AppErrorOptions): AppError
}

/**
 * Declares an app's error codes. Spread `COMMON_ERROR_CODES` in (and override a description to be more precise).
 * @example
 * export const ERRORS = defineErrorCodes({ ...COMMON_ERROR_CODES, EMAIL_TAKEN: 'this email is already registered' })
 * detail: { description: ERRORS.describe('Creates a user.', 'EMAIL_TAKEN', 'VALIDATION_FAILED') }
 * throw ERRORS.error(409, 'EMAIL_TAKEN', 'this email is already registered')
 */
export const defineErrorCodes = <const C extends Readonly<Record<string, string>>>(
  codes: C,
): ErrorCodes<C> => {
  const frozen = Object.freeze({ ...codes })
  const has = (code: string): code is keyof C & string => Object.hasOwn(frozen, code)
  const errorList = (...list: (keyof C & string)[]) =>
    `\n\n${ERRORS_HEADING}\n${list.map((code) => `- \`${code}\`: ${frozen[code]}`).join('\n')}`
  return {
    codes: frozen,
    has,
    errorList,
    describe: (text, ...list) => `${text}${errorList(...list)}`,
    error: (status, code, message, options) => new AppError(status, code, message, options),
  }
}

/** An OpenAPI document, as far as the error lists are concerned. */
interface OpenApiLike {
  readonly paths?: Readonly<
    Record<string, Readonly<Record<string, { readonly description?: string } | undefined>> | undefined>
  >
}

/** One code a route's description lists. */
export interface DocumentedErrorCode {
  readonly method: string
  readonly path: string
  readonly code: string
}

const LISTED_CODE = /^- `([A-Z][A-Z0-9_]*)`/

/** Every code listed under `Errors:` in the route descriptions of an OpenAPI document. */
export const documentedErrorCodes = (document: OpenApiLike): DocumentedErrorCode[] => {
  const found: DocumentedErrorCode[] = []
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations ?? {})) {
      const description = operation?.description ?? ''
      const start = description.indexOf(ERRORS_HEADING)
      if (start === -1) continue
      for (const line of description.slice(start + ERRORS_HEADING.length).split('\n')) {
        const code = LISTED_CODE.exec(line.trim())?.[1]
        if (code) found.push({ method, path, code })
      }
    }
  }
  return found
}

export interface ErrorDocProblems {
  /** Codes a route lists that the app's map does not declare. */
  readonly undeclared: DocumentedErrorCode[]
  /** `METHOD path` of the checked routes that list no error code at all. */
  readonly unlisted: string[]
}

/** An app's own routes: under `/v1/`, except the kit's dead-letter routes (documented by the kit). */
const isOwnRoute = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/dead-letters')

/**
 * What is wrong with the error lists of an app's OpenAPI document: codes missing from its map, and own routes
 * (under `/v1/`, but the kit's dead-letter routes and the paths in `except`) without an error list. Both empty when
 * the docs match the map.
 * @example expect(errorDocProblems(await (await app.handle(req('/swagger/json'))).json(), ERRORS)).toEqual({ undeclared: [], unlisted: [] })
 */
export const errorDocProblems = (
  document: OpenApiLike,
  codes: Pick<ErrorCodes<Readonly<Record<string, string>>>, 'has'>,
  { except = [] }: { readonly except?: readonly string[] } = {},
): ErrorDocProblems => {
  const documented = documentedErrorCodes(document)
  const listed = new Set(documented.map(({ method, path }) => `${method.toUpperCase()} ${path}`))
  const unlisted: string[] = []
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    if (!isOwnRoute(path) || except.includes(path)) continue
    for (const method of Object.keys(operations ?? {})) {
      const route = `${method.toUpperCase()} ${path}`
      if (!listed.has(route)) unlisted.push(route)
    }
  }
  return { undeclared: documented.filter(({ code }) => !codes.has(code)), unlisted }
}
