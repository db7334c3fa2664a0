/** Request and correlation ids for every request, echoed in the response and bound to a child logger. */
import pino, { type Logger } from 'pino'

export const REQUEST_ID_HEADER = 'x-request-id'
export const CORRELATION_ID_HEADER = 'x-correlation-id'

// Ids from callers are kept only when short and plain, so they cannot inject into logs or headers.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** What the kit knows about a request in flight. */
export interface RequestContext {
  readonly requestId: string
  /** The id shared by every request and event of one flow (defaults to the request id). */
  readonly correlationId: string
  /** A child logger carrying both ids. */
  readonly log: Logger
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number
}

const pick = (value: string | null): string | undefined => (value && SAFE_ID.test(value) ? value : undefined)

/**
 * The request's child logger, made on first use: most requests log nothing but their access line (which the kit
 * writes with the ids itself), and a pino child serialises its bindings as it is made, on every request.
 */
const lazyChild = (logger: Logger, bindings: { requestId: string; correlationId: string }): Logger => {
  let child: Logger | undefined
  const real = () => {
    child ??= logger.child(bindings)
    return child
  }
  return new Proxy({} as Logger, {
    get: (_, key) => {
      const target = real()
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
  })
}

/** Builds the context for a request: keeps a caller's ids when valid, otherwise generates a request id. */
const createRequestContext = (request: Request, logger: Logger): RequestContext => {
  const requestId = pick(request.headers.get(REQUEST_ID_HEADER)) ?? crypto.randomUUID()
  const correlationId = pick(request.headers.get(CORRELATION_ID_HEADER)) ?? requestId
  return {
    requestId,
    correlationId,
    log: lazyChild(logger, { requestId, correlationId }),
    startedAt: performance.now(),
  }
}

const contexts = new WeakMap<Request, RequestContext>()
let fallbackLogger: Logger | undefined

/**
 * The context of a request: the one the service app bound on arrival, or (for a feature plugin handled
 * on its own, as in a unit test) one created now with a silent logger.
 */
export const requestContextOf = (request: Request, logger?: Logger): RequestContext => {
  let context = contexts.get(request)
  if (!context) {
    fallbackLogger ??= pino({ level: 'silent' })
    context = createRequestContext(request, logger ?? fallbackLogger)
    contexts.set(request, context)
  }
  return context
}
