/** Elysia plugin: one SERVER span per request, continuing the caller's `traceparent`. */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api'
import { Elysia } from 'elysia'
import { activeContextManager, getTracer } from './setup.ts'

export interface HttpTracingOptions {
  /** Paths that get no span (probes and scrapes would drown the traces). @defaultValue health, ready, metrics */
  readonly ignorePaths?: readonly string[]
}

const DEFAULT_IGNORED = ['/health', '/ready', '/metrics']

// Reads the propagator's headers straight from the request (no copy of every header per request).
const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
}

/** Path and scheme of a request URL without building a `URL` (this runs on every request). */
const partsOf = (url: string): { path: string; scheme: string } => {
  const colon = url.indexOf('://')
  const start = url.indexOf('/', colon + 3)
  const query = start === -1 ? -1 : url.indexOf('?', start)
  return {
    scheme: url.slice(0, colon),
    path: start === -1 ? '/' : query === -1 ? url.slice(start) : url.slice(start, query),
  }
}

const statusOf = (status: unknown): number => (typeof status === 'number' ? status : 200)

/**
 * Traces every request: extracts `traceparent`/`tracestate`, starts a SERVER span named `<METHOD> <route>`,
 * makes it the active context for the handler (so `injectTraceparent` and `traceHeaders` see it), records
 * errors, and ends the span after the response with `http.response.status_code`.
 * @example createServiceApp({ ... }).use(httpTracing()).use(featureRoutes)
 */
export const httpTracing = (options: HttpTracingOptions = {}) => {
  const ignored = new Set(options.ignorePaths ?? DEFAULT_IGNORED)
  const spans = new WeakMap<Request, Span>()
  return new Elysia({ name: '@flotilla/telemetry/http' })
    .onRequest(({ request }) => {
      const url = partsOf(request.url)
      if (ignored.has(url.path)) return
      const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter)
      const requestId = request.headers.get('x-request-id')
      const span = getTracer().startSpan(
        `${request.method} ${url.path}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'url.path': url.path,
            'url.scheme': url.scheme,
            ...(requestId ? { 'http.request.id': requestId } : {}),
          },
        },
        parent,
      )
      spans.set(request, span)
      activeContextManager()?.enter(trace.setSpan(parent, span))
    })
    .onError({ as: 'global' }, ({ request, error }) => {
      const span = spans.get(request)
      if (!span) return
      span.recordException(error instanceof Error ? error : String(error))
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const span = spans.get(request)
      if (!span) return
      spans.delete(request)
      const status = statusOf(set.status)
      if (route) {
        span.updateName(`${request.method} ${route}`)
        span.setAttribute('http.route', route)
      }
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
}

/** The active span's trace id (for log lines), or undefined outside a span. */
export const activeTraceId = (): string | undefined => trace.getSpanContext(context.active())?.traceId
