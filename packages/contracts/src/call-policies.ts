/**
 * The cockatiel policies both HTTP clients compose (the kit's service client and the SDK's resilient fetch): a
 * consecutive-failure circuit breaker, an aggressive timeout per attempt, and retries that free the connection of
 * an answer they discard. Here rather than in the kit so the SDK keeps running on Node without Elysia.
 */
import {
  ConsecutiveBreaker,
  circuitBreaker,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type Policy,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel'

export interface CallPolicyOptions {
  /** What counts against the breaker (errors and answers). */
  readonly failure: Policy
  /** What may be sent again. @defaultValue `failure` */
  readonly retryable?: Policy
  /** Per attempt; a slower answer is a failure. */
  readonly timeoutMs: number
  /** Retries after the first attempt. */
  readonly retries: number
  readonly backoff: IBackoffFactory<IRetryBackoffContext<unknown>>
  /** Consecutive failures that open the circuit. */
  readonly consecutiveFailures: number
  /** How long the circuit stays open before one trial call. */
  readonly halfOpenAfterMs: number
}

/** The breaker (for its state) and the two policies a call runs under: `once`, or `withRetries` when idempotent. */
export const createCallPolicies = (options: CallPolicyOptions) => {
  const breaker = circuitBreaker(options.failure, {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.consecutiveFailures),
  })
  // abortOnReturn off: the body is read after the attempt returns and must not be aborted then.
  const perAttempt = timeout(options.timeoutMs, {
    strategy: TimeoutStrategy.Aggressive,
    abortOnReturn: false,
  })
  const retrying = retry(options.retryable ?? options.failure, {
    maxAttempts: options.retries,
    backoff: options.backoff,
  })
  // Free the connection of an answer we are about to discard.
  retrying.onRetry((reason) => {
    if ('value' in reason && reason.value instanceof Response)
      void reason.value.body?.cancel().catch(() => {})
  })
  return { breaker, once: wrap(breaker, perAttempt), withRetries: wrap(retrying, breaker, perAttempt) }
}
