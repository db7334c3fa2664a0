/**
 * A `fetch` with a timeout per attempt, retries for idempotent calls and a circuit breaker, for the SDK's Eden
 * clients (their `fetcher`). cockatiel is the project's resilience library (the services' HTTP client uses it
 * too); it has no dependencies and runs the same on Node and Bun.
 */
import { createCallPolicies } from '@flotilla/contracts'
import {
  BrokenCircuitError,
  CircuitState,
  ExponentialBackoff,
  handleWhen,
  TaskCancelledError,
} from 'cockatiel'

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated'

export interface ResilienceOptions {
  /** Per attempt; a slower answer is a failure. @defaultValue 3000 */
  readonly timeoutMs?: number
  /** Retries after the first attempt, for idempotent calls only. @defaultValue 2 */
  readonly retries?: number
  /** First backoff step (exponential, jittered). @defaultValue 100 */
  readonly backoffMs?: number
  /** Consecutive failures (network error, timeout, 5xx) that open the circuit. @defaultValue 5 */
  readonly consecutiveFailures?: number
  /** How long the circuit stays open before one trial call. @defaultValue 10000 */
  readonly halfOpenAfterMs?: number
  /** Which calls may be sent again. @defaultValue GET, HEAD, OPTIONS, PUT and DELETE */
  readonly isIdempotent?: (method: string, url: URL) => boolean
  /** Told of every breaker change (metrics, logs). */
  readonly onBreakerStateChange?: (state: BreakerState) => void
}

/** The service cannot be used now: circuit open, no answer in time, or unreachable. Maps to HTTP 503. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError'
  readonly status = 503
  readonly code = 'SERVICE_UNAVAILABLE'
  constructor(
    readonly service: string,
    readonly reason: 'circuit-open' | 'timeout' | 'unreachable',
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(
      reason === 'circuit-open'
        ? `${service} is unavailable (circuit open after repeated failures)`
        : reason === 'timeout'
          ? `${service} did not answer in time`
          : `${service} could not be reached`,
      { cause: options?.cause },
    )
    this.retryAfterMs = options?.retryAfterMs
  }
  /** For circuit-open: when the next trial call may go out. */
  readonly retryAfterMs: number | undefined
}

export interface ResilientFetch {
  readonly fetch: typeof fetch
  breakerState(): BreakerState
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
}

/**
 * Wraps a fetch for calls to one service. A timeout, an open circuit or a network failure rejects with
 * `ServiceUnavailableError`; any HTTP answer (a 5xx once retries are spent) is handed back as it is.
 * @example treaty<App>(baseUrl, { fetcher: createResilientFetch('auth', {}).fetch })
 */
export const createResilientFetch = (
  service: string,
  options: ResilienceOptions = {},
  base: typeof fetch = fetch,
): ResilientFetch => {
  const timeoutMs = options.timeoutMs ?? 3000
  const halfOpenAfterMs = options.halfOpenAfterMs ?? 10_000
  const isIdempotent =
    options.isIdempotent ?? ((method: string) => IDEMPOTENT_METHODS.has(method.toUpperCase()))

  const failure = handleWhen((error) => !(error instanceof BrokenCircuitError)).orWhenResult(
    (result) => result instanceof Response && result.status >= 500,
  )
  const { breaker, once, withRetries } = createCallPolicies({
    failure,
    timeoutMs,
    retries: options.retries ?? 2,
    backoff: new ExponentialBackoff({ initialDelay: options.backoffMs ?? 100, maxDelay: 2000 }),
    consecutiveFailures: options.consecutiveFailures ?? 5,
    halfOpenAfterMs,
  })
  breaker.onStateChange((state) => options.onBreakerStateChange?.(STATES[state]))

  const resilientFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? new Request(input, init) : new Request(String(input), init)
    const policy = isIdempotent(request.method, new URL(request.url)) ? withRetries : once
    // Each attempt needs its own body: read it once, send a copy per attempt.
    const body = request.body ? await request.arrayBuffer() : undefined
    try {
      return await policy.execute(
        // The attempt's signal ends on the timeout and on the caller's own signal.
        ({ signal }) =>
          base(request.url, {
            method: request.method,
            headers: request.headers,
            ...(body === undefined ? {} : { body: body.slice(0) }),
            signal,
          }),
        init.signal ?? undefined,
      )
    } catch (error) {
      if (init.signal?.aborted) throw error
      if (error instanceof BrokenCircuitError)
        throw new ServiceUnavailableError(service, 'circuit-open', {
          cause: error,
          retryAfterMs: halfOpenAfterMs,
        })
      if (error instanceof TaskCancelledError)
        throw new ServiceUnavailableError(service, 'timeout', { cause: error })
      throw new ServiceUnavailableError(service, 'unreachable', { cause: error })
    }
  }
  return {
    fetch: resilientFetch as typeof fetch,
    breakerState: () => STATES[breaker.state],
  }
}
