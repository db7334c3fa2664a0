/**
 * The inter-service HTTP client: a current service token per call (renewed at half its life), a timeout per
 * attempt, retries with jittered exponential backoff for idempotent calls (honouring `Retry-After`), and a circuit breaker.
 * Resilience comes from cockatiel: maintained, composable policies, no dependencies.
 */
import { createCallPolicies } from '@flotilla/contracts'
import {
  BrokenCircuitError,
  DelegateBackoff,
  handleWhen,
  type IRetryBackoffContext,
  TaskCancelledError,
} from 'cockatiel'
import { AppError } from '../errors/app-error.ts'
import { CORRELATION_ID_HEADER, REQUEST_ID_HEADER } from '../logging/request-context.ts'

export interface TokenSigner {
  sign(options: { audience: string }): Promise<string>
}

export interface BreakerOptions {
  /** Consecutive failures (network, timeout, 5xx) that open the circuit. @defaultValue 5 */
  readonly consecutiveFailures?: number
  /** How long the circuit stays open before one trial call. @defaultValue 10000 */
  readonly halfOpenAfterMs?: number
}

export interface ServiceClientOptions {
  /** The calling service (the token's issuer is the signer's). */
  readonly service: string
  /** The service called: the token's audience. */
  readonly target: string
  /** From config: `serviceUrl(target, env)`. */
  readonly baseUrl: string
  readonly signer: TokenSigner
  /** Per attempt. @defaultValue 5000 */
  readonly timeoutMs?: number
  /** Retries after the first attempt, for idempotent calls only. @defaultValue 3 */
  readonly retries?: number
  /** First backoff step; each retry doubles it (full jitter). @defaultValue 100 */
  readonly backoffMs?: number
  /** Longest wait between attempts; a `Retry-After` asking for more is not retried. @defaultValue 5000 */
  readonly maxDelayMs?: number
  readonly breaker?: BreakerOptions
}

export interface ServiceRequestInit {
  /** @defaultValue 'GET' */
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown
  readonly body?: string | Uint8Array<ArrayBuffer>
  /** Allow retries for a non-idempotent method (the call carries its own idempotency key). */
  readonly idempotent?: boolean
  readonly requestId?: string
  readonly correlationId?: string
  readonly traceparent?: string
  readonly signal?: AbortSignal
}

/** A non-2xx answer from another service, for `json()`. Rendered as 502 when it reaches a route. */
export class UpstreamError extends AppError {
  readonly upstreamStatus: number
  readonly upstreamBody: unknown
  constructor(target: string, status: number, body: unknown) {
    super(502, 'UPSTREAM_ERROR', `${target} answered ${status}`, { details: { target, status } })
    this.upstreamStatus = status
    this.upstreamBody = body
  }
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

const isRetryableStatus = (status: number) => status === 429 || status >= 500
const isFailureStatus = (status: number) => status >= 500

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | null, now = Date.now()): number | undefined => {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export interface ServiceClient {
  readonly target: string
  readonly baseUrl: string
  /** Sends a request; resolves to the last response (even a 5xx once retries are spent). */
  request(path: string, init?: ServiceRequestInit): Promise<Response>
  /** Sends a request and parses a JSON answer; throws `UpstreamError` on a non-2xx status. */
  json<T>(path: string, init?: ServiceRequestInit): Promise<T>
  /** A `fetch` for Eden treaty and other clients (`treaty(baseUrl, { fetcher: client.fetch })`). */
  readonly fetch: typeof fetch
  /** `closed`, `open`, `half-open` or `isolated`. */
  breakerState(): string
}

const STATES = ['closed', 'open', 'half-open', 'isolated'] as const

/** Adapts `request` to the `fetch` signature (what Eden treaty's `fetcher` option takes). */
const fetchVia = (request: (path: string, init: ServiceRequestInit) => Promise<Response>): typeof fetch =>
  Object.assign(
    async (input: string | URL | Request, init: RequestInit = {}) => {
      const incoming = input instanceof Request ? input : undefined
      const url = incoming ? incoming.url : String(input)
      const method = init.method ?? incoming?.method ?? 'GET'
      const headers = Object.fromEntries(new Headers(init.headers ?? incoming?.headers).entries())
      const raw = init.body ?? (incoming?.body ? await incoming.arrayBuffer() : undefined)
      const body =
        raw === undefined || raw === null
          ? undefined
          : typeof raw === 'string'
            ? raw
            : new Uint8Array(await new Response(raw).arrayBuffer())
      return request(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(init.signal ? { signal: init.signal } : {}),
      })
    },
    { preconnect: fetch.preconnect },
  )

/**
 * Creates a client for one target service.
 * @example const auth = createServiceClient({ service: 'notifications', target: 'auth', baseUrl: config.AUTH_URL, signer })
 */
export const createServiceClient = (options: ServiceClientOptions): ServiceClient => {
  const {
    service,
    target,
    signer,
    timeoutMs = 5000,
    retries = 3,
    backoffMs = 100,
    maxDelayMs = 5000,
  } = options
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const origin = new URL(baseUrl).origin

  const failed = handleWhen((error) => !(error instanceof BrokenCircuitError)).orWhenResult(
    (result) => result instanceof Response && isFailureStatus(result.status),
  )
  const backoff = new DelegateBackoff((context: IRetryBackoffContext<unknown>) => {
    const result = 'value' in context.result ? context.result.value : undefined
    const retryAfter =
      result instanceof Response ? parseRetryAfter(result.headers.get('retry-after')) : undefined
    const ceiling = Math.min(maxDelayMs, backoffMs * 2 ** (context.attempt - 1))
    return retryAfter ?? Math.random() * ceiling
  })
  const retryable = handleWhen(
    (error) =>
      !(error instanceof BrokenCircuitError) &&
      !(error instanceof DOMException && error.name === 'AbortError'),
  ).orWhenResult((result) => {
    if (!(result instanceof Response) || !isRetryableStatus(result.status)) return false
    // Never retry sooner than the server asked: past our longest wait, hand the answer back instead.
    const retryAfter = parseRetryAfter(result.headers.get('retry-after'))
    return retryAfter === undefined || retryAfter <= maxDelayMs
  })
  const { breaker, once, withRetries } = createCallPolicies({
    failure: failed,
    retryable,
    timeoutMs,
    retries,
    backoff,
    consecutiveFailures: options.breaker?.consecutiveFailures ?? 5,
    halfOpenAfterMs: options.breaker?.halfOpenAfterMs ?? 10_000,
  })

  const attempt = async (url: string, init: ServiceRequestInit, signal: AbortSignal): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.set('authorization', `Bearer ${await signer.sign({ audience: target })}`)
    headers.set('user-agent', `flotilla-${service}`)
    if (init.requestId) headers.set(REQUEST_ID_HEADER, init.requestId)
    if (init.correlationId) headers.set(CORRELATION_ID_HEADER, init.correlationId)
    if (init.traceparent) headers.set('traceparent', init.traceparent)
    let body = init.body
    if (init.json !== undefined) {
      body = JSON.stringify(init.json)
      headers.set('content-type', 'application/json')
    }
    return fetch(url, { method: init.method ?? 'GET', headers, body: body ?? null, signal })
  }

  const request = async (path: string, init: ServiceRequestInit = {}): Promise<Response> => {
    const url = /^https?:\/\//.test(path) ? path : `${baseUrl}${path.startsWith('/') ? '' : '/'}${path}`
    // The token is for the target only: never send it anywhere else.
    if (new URL(url).origin !== origin)
      throw new Error(`refusing to send a service token to ${new URL(url).origin}`)
    const method = (init.method ?? 'GET').toUpperCase()
    const policy = init.idempotent || IDEMPOTENT_METHODS.has(method) ? withRetries : once
    try {
      return await policy.execute(({ signal }) => attempt(url, { ...init, method }, signal), init.signal)
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new AppError(503, 'UPSTREAM_UNAVAILABLE', `${target} is unavailable (circuit open)`, {
          details: { target },
          cause: error,
        })
      }
      if (error instanceof TaskCancelledError && !init.signal?.aborted) {
        throw new AppError(504, 'UPSTREAM_TIMEOUT', `${target} did not answer within ${timeoutMs} ms`, {
          details: { target, timeoutMs },
          cause: error,
        })
      }
      if (init.signal?.aborted) throw error
      throw new AppError(502, 'UPSTREAM_UNREACHABLE', `${target} could not be reached`, {
        details: { target },
        cause: error,
      })
    }
  }

  return {
    target,
    baseUrl,
    request,
    async json<T>(path: string, init?: ServiceRequestInit): Promise<T> {
      const response = await request(path, init)
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : undefined
      } catch {
        // keep the text: an upstream error page is still worth carrying
      }
      if (!response.ok) throw new UpstreamError(target, response.status, parsed)
      return parsed as T
    },
    fetch: fetchVia(request),
    breakerState: () => STATES[breaker.state] ?? 'closed',
  }
}
