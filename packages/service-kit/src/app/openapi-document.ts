/**
 * Finishes the OpenAPI document `@elysiajs/openapi` generates so that linters and client generators accept it:
 * shared models as `$ref`s, the kit's error responses on every operation where they can happen, the route's own
 * `detail.responses` kept, `servers` from the gateway's prefix, no OpenAPI 3.0 `nullable` in a 3.1 document.
 */

/** A JSON object (an OpenAPI document or a part of one). */
type Json = Record<string, unknown>

/** What a route declared in `detail.responses` (the plugin drops it when the route also has `response` schemas). */
export interface DeclaredResponses {
  readonly method: string
  /** Elysia's path (`/v1/records/:id`). */
  readonly path: string
  readonly responses: Readonly<Record<string, unknown>>
}

export interface FinishOptions {
  /** `X-Forwarded-Prefix` of the request (`/audit` behind the gateway): the document's server URL. */
  readonly prefix?: string | null
  readonly declaredResponses?: readonly DeclaredResponses[]
}

/** The name the error body is registered under in `components.schemas`. */
export const ERROR_BODY_MODEL = 'ErrorBody'

const ERROR_REF = { $ref: `#/components/schemas/${ERROR_BODY_MODEL}` }

// A prefix the gateway sets is a plain path; anything else (a forged header on a direct call) is ignored.
const SAFE_PREFIX = /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/
const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|$)/
const isSafePrefix = (prefix: string) => SAFE_PREFIX.test(prefix) && !DOT_SEGMENT.test(prefix)

const errorResponse = (description: string, headers?: Json): Json => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ERROR_REF } },
})

/** The error responses the kit itself can answer, by status. */
const COMMON_RESPONSES = {
  400: () => errorResponse('`MALFORMED_JSON`: the body could not be parsed'),
  401: () =>
    errorResponse('`INVALID_TOKEN`: missing, malformed or refused bearer token', {
      'WWW-Authenticate': { description: '`Bearer`', schema: { type: 'string' } },
    }),
  413: () => errorResponse('`PAYLOAD_TOO_LARGE`: the body is larger than the limit (`details.limitBytes`)'),
  415: () =>
    errorResponse('`UNSUPPORTED_MEDIA_TYPE`: the body has another content type (`details.accepted`)'),
  422: () =>
    errorResponse('`VALIDATION_FAILED`: the body, query or path is invalid (`details` lists each problem)'),
  429: () =>
    errorResponse('`RATE_LIMITED`: too many requests', {
      'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } },
    }),
  503: () =>
    errorResponse('`DEPENDENCY_UNAVAILABLE`: a store this route needs (Redis) cannot answer now', {
      'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } },
    }),
  500: () => errorResponse('`INTERNAL`: an unexpected failure (logged with the request id)'),
} as const

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** JSON with sorted keys: two schemas are the same model when these are equal. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )

/** Replaces every inline copy of a registered model by a `$ref` to it (not the model's own definition). */
const useRefs = (value: unknown, models: ReadonlyMap<string, string>, isRoot = true): unknown => {
  if (Array.isArray(value)) return value.map((item) => useRefs(item, models, false))
  if (!isObject(value)) return value
  if (!isRoot) {
    const name = models.get(canonical(value))
    if (name) return { $ref: `#/components/schemas/${name}` }
  }
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, useRefs(v, models, false)]))
}

/** `nullable` is OpenAPI 3.0; a 3.1 schema says `type: [..., "null"]` (Elysia's `t.Nullable` adds both). */
const dropNullable = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(dropNullable)
  if (!isObject(value)) return value
  const entries = Object.entries(value).filter(([key, v]) => !(key === 'nullable' && typeof v === 'boolean'))
  return Object.fromEntries(entries.map(([key, v]) => [key, dropNullable(v)]))
}

const toOpenApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}')

const PLUGIN_DESCRIPTION = /^Response for status \d+$/

const STATUS_TEXT: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
}

const isErrorBody = (response: Json): boolean => {
  const content = isObject(response.content) ? response.content['application/json'] : undefined
  return isObject(content) && isObject(content.schema) && content.schema.$ref === ERROR_REF.$ref
}

/** Adds what an operation can answer besides what its route declares. */
const completeOperation = (
  operation: Json,
  declared: Readonly<Record<string, unknown>> | undefined,
): Json => {
  const responses: Json = { ...(isObject(operation.responses) ? operation.responses : {}) }
  for (const [status, response] of Object.entries(declared ?? {})) responses[status] ??= response
  const add = (status: keyof typeof COMMON_RESPONSES) => {
    responses[status] ??= COMMON_RESPONSES[status]()
  }
  const secured = Array.isArray(operation.security) && operation.security.length > 0
  const parameters = Array.isArray(operation.parameters) ? operation.parameters : []
  const hasBody = operation.requestBody !== undefined
  if (secured) add(401)
  if (hasBody) {
    add(400)
    add(413)
    add(415)
  }
  if (hasBody || parameters.length > 0) add(422)
  if (typeof operation.description === 'string' && operation.description.includes('`RATE_LIMITED`')) add(429)
  if (typeof operation.description === 'string' && operation.description.includes('`DEPENDENCY_UNAVAILABLE`'))
    add(503)
  add(500)
  for (const [status, response] of Object.entries(responses)) {
    // The plugin's "Response for status 404" says nothing; an error's codes are listed in the route description.
    if (!isObject(response) || !PLUGIN_DESCRIPTION.test(String(response.description))) continue
    const text = STATUS_TEXT[status] ?? `Status ${status}`
    responses[status] = {
      ...response,
      description: isErrorBody(response) ? `${text}: see the codes under Errors` : text,
    }
  }
  return { ...operation, responses }
}

/**
 * The finished document (a new object; `raw` is the plugin's cached one and stays untouched).
 * @example finishDocument(await (await app.handle(req('/swagger/json'))).json(), { prefix: '/audit' })
 */
export const finishDocument = (raw: Json, options: FinishOptions = {}): Json => {
  const components = isObject(raw.components) ? raw.components : {}
  const schemas = isObject(components.schemas) ? components.schemas : {}
  const models = new Map(Object.entries(schemas).map(([name, schema]) => [canonical(schema), name]))
  const declared = new Map(
    (options.declaredResponses ?? []).map((d) => [
      `${d.method.toLowerCase()} ${toOpenApiPath(d.path)}`,
      d.responses,
    ]),
  )
  // Refs first: an error response is recognised by its $ref to ErrorBody.
  const inline = useRefs(isObject(raw.paths) ? raw.paths : {}, models) as Json
  const paths: Json = {}
  for (const [path, item] of Object.entries(inline)) {
    if (!isObject(item)) continue
    paths[path] = Object.fromEntries(
      Object.entries(item).map(([method, operation]) =>
        METHODS.has(method) && isObject(operation)
          ? [method, completeOperation(operation, declared.get(`${method} ${path}`))]
          : [method, operation],
      ),
    )
  }
  const prefix = options.prefix && isSafePrefix(options.prefix) ? options.prefix : '/'
  return dropNullable({
    ...raw,
    servers: [
      { url: prefix, description: prefix === '/' ? 'this service' : 'this service, through the gateway' },
    ],
    paths,
    components: {
      ...components,
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [name, useRefs(schema, models)]),
      ),
    },
  }) as Json
}
