/** The base Elysia app of every service: ids and logs, one error shape, body limits, probes, metrics, Swagger. */
import { TokenError } from '@flotilla/contracts'
import type { DeadLetters } from '@flotilla/streams'
import { httpTracing } from '@flotilla/telemetry'
import { Elysia } from 'elysia'
import type { Logger } from 'pino'
import type { ServiceVerifier } from '../auth/types.ts'
import { DeadLetterPageSchema, DeadLetterSchema, deadLetterRoutes } from '../dead-letters/routes.ts'
import { renderError } from '../errors/render.ts'
import { CORRELATION_ID_HEADER, REQUEST_ID_HEADER, requestContextOf } from '../logging/request-context.ts'
import { requestContext } from '../logging/request-context-plugin.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { checkBody } from './body-limit.ts'
import { HealthResponse, probes, type ReadinessCheck, ReadyResponse } from './probes.ts'
import { type SwaggerOptions, swagger } from './swagger.ts'

/** 64 KiB: every JSON body these services take is small; Bun's own default is 128 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024

export interface ServiceAppOptions {
  /** The service name (`auth`): logs, metrics, `/health`. */
  readonly name: string
  readonly version: string
  readonly logger: Logger
  readonly metrics: Metrics
  /** Checks `/ready` runs, by name (`redis`, `store`, `consumer`). */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>
  /** @defaultValue 2000 */
  readonly readinessTimeoutMs?: number
  /** Largest request body accepted, checked on `content-length` and on the bytes read. @defaultValue 65536 */
  readonly bodyLimitBytes?: number
  /** Media types a request body may have (415 otherwise). @defaultValue ['application/json'] */
  readonly acceptedContentTypes?: readonly string[]
  /** Swagger UI page text. @defaultValue title `<name> API` */
  readonly swagger?: Partial<SwaggerOptions>
  /** Feature flags and their values, shown in `/health`. */
  readonly features?: Readonly<Record<string, boolean>>
  /** The service's dead letters: mounts the inspector routes (`/v1/dead-letters`) behind a service token. */
  readonly deadLetters?: DeadLetterService
}

/** One consumer group's dead letters and who may inspect them. */
export interface DeadLetterService {
  readonly group: string
  readonly deadLetters: DeadLetters
  /** Service tokens whose audience is this service. */
  readonly verifier: ServiceVerifier
}

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics'])

/** The path of a request URL without building a `URL` (the access log runs on every request). */
const pathOf = (url: string): string => {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}

// Without dead letters the inspector routes answer 401 to anyone (there is nothing behind them).
const refuseEveryToken: ServiceVerifier = {
  verify: async () => {
    throw new TokenError('this service keeps no dead letters')
  },
}

/**
 * Creates the service's Elysia app (it never listens: the runner does). Apps `.use()` their feature routes.
 * Every request is traced (`httpTracing`); the dead-letter inspector is mounted when `deadLetters` is given.
 * Routes read `requestId`, `correlationId` and `log` (a child logger with both ids) from the context;
 * feature plugins `.use(requestContext)` to see them typed.
 * @example
 * const app = createServiceApp({ name: 'audit', version, logger, metrics, readiness: { redis: () => redis.ping().then(() => {}) } })
 *   .use(recordRoutes(deps))
 */
export const createServiceApp = (options: ServiceAppOptions) => {
  const {
    name,
    version,
    logger,
    metrics,
    readiness = {},
    readinessTimeoutMs = 2000,
    bodyLimitBytes = DEFAULT_BODY_LIMIT_BYTES,
    acceptedContentTypes = ['application/json'],
  } = options
  const contextOf = (request: Request) => requestContextOf(request, logger)

  // Bun's own cap answers an empty 413, so it sits above ours as a backstop: our check answers first, in
  // the one error shape, having read no more than the limit.
  const hardCap = Math.max(bodyLimitBytes * 2, 1024 * 1024)
  return (
    // normalize: false — Elysia otherwise strips unknown properties before validating, so a body with
    // extra or wrongly shaped fields (an array where an object belongs) was accepted; now they are a 422.
    new Elysia({ serve: { maxRequestBodySize: hardCap }, normalize: false })
      // The body check runs on request, not as a global parse hook: a parse hook makes the OpenAPI plugin
      // drop every route's request body from the document. Not `async`: a promise only when a body must be
      // read to be counted (Elysia awaits what the hook returns).
      .onRequest(({ request, set }) => {
        const context = contextOf(request)
        set.headers[REQUEST_ID_HEADER] = context.requestId
        set.headers[CORRELATION_ID_HEADER] = context.correlationId
        return checkBody(request, bodyLimitBytes, acceptedContentTypes)
      })
      .use(requestContext)
      .onError({ as: 'global' }, ({ code, error, request, set }) => {
        const rendered = renderError(code, error)
        const context = contextOf(request)
        set.status = rendered.status
        set.headers[REQUEST_ID_HEADER] = context.requestId
        set.headers[CORRELATION_ID_HEADER] = context.correlationId
        for (const [header, value] of Object.entries(rendered.headers)) set.headers[header] = value
        if (rendered.unexpected) context.log.error({ err: error, status: rendered.status }, 'request failed')
        return rendered.body
      })
      .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
        const context = contextOf(request)
        // A handler that returns a Response sets its status there, not on `set`.
        const status =
          responseValue instanceof Response
            ? responseValue.status
            : typeof set.status === 'number'
              ? set.status
              : 200
        const seconds = (performance.now() - context.startedAt) / 1000
        const pattern = route || 'unmatched'
        metrics.observeRequest({ method: request.method, route: pattern, status, seconds })
        // The line is built only for a level that writes it (`debug` enabled implies `info` enabled).
        if (!logger.isLevelEnabled('info')) return
        const path = pathOf(request.url)
        const quiet = QUIET_PATHS.has(path)
        if (quiet && !logger.isLevelEnabled('debug')) return
        // On the service logger with the ids, as the request's child would write it, without making the child.
        const line = {
          requestId: context.requestId,
          correlationId: context.correlationId,
          method: request.method,
          path,
          route: pattern,
          status,
          ms: Math.round(seconds * 1000),
        }
        if (quiet) logger.debug(line, 'request')
        else logger.info(line, 'request')
      })
      .use(
        probes({ service: name, version, readiness, readinessTimeoutMs, features: options.features ?? {} }),
      )
      .get(
        '/metrics',
        async () =>
          new Response(await metrics.text(), {
            headers: { 'content-type': metrics.contentType },
          }),
        {
          detail: {
            tags: ['operations'],
            summary: 'Prometheus metrics (text exposition format)',
            security: [],
            responses: {
              200: {
                description: 'every metric of this process',
                content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
              },
            },
          },
        },
      )
      .use(
        swagger({
          title: options.swagger?.title ?? `${name} API`,
          description: options.swagger?.description ?? `HTTP API of the ${name} service`,
          version,
          ...(options.swagger?.tags ? { tags: options.swagger.tags } : {}),
          // The kit's own shared models (ErrorBody is registered by swagger itself), then the app's.
          models: {
            Health: HealthResponse,
            Readiness: ReadyResponse,
            DeadLetter: DeadLetterSchema,
            DeadLetterPage: DeadLetterPageSchema,
            ...options.swagger?.models,
          },
        }),
      )
      .use(httpTracing())
      .use(
        deadLetterRoutes({
          deadLetters: options.deadLetters
            ? { [options.deadLetters.group]: options.deadLetters.deadLetters }
            : {},
          ...(options.deadLetters ? { auth: options.deadLetters.verifier } : { auth: refuseEveryToken }),
        }),
      )
  )
}

/** The app `createServiceApp` returns. */
export type ServiceApp = ReturnType<typeof createServiceApp>
