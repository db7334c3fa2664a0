/** Typed HTTP clients for the services (Eden treaty), each call carrying a current service token, with a timeout, retries for idempotent calls and a circuit breaker. */
import { type Treaty, treaty } from '@elysiajs/eden'
import type { ServiceTokenSigner } from '@flotilla/contracts'
import type { AnyElysia } from 'elysia'
import { createResilientFetch, type ResilienceOptions } from './resilient-fetch.ts'

export interface ServiceTreatyOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:3001`. */
  readonly baseUrl: string
  /** Gives the bearer token per request, with the target service as audience (the SDK signer hands out one token per audience for half its lifetime). */
  readonly signer: Pick<ServiceTokenSigner, 'sign'>
  /** The target service's name (the token's audience). */
  readonly audience: string
  /** Extra headers per request (correlation id, traceparent); per-call `headers` are merged over them. */
  readonly headers?: () => Record<string, string> | undefined
  /** A custom fetch (tests: `app.handle`); the resilience policies wrap it. */
  readonly fetcher?: typeof fetch
  /**
   * Timeout, retries and circuit breaker for every call; a call that cannot be made rejects with
   * `ServiceUnavailableError` (map it to 503). `false` sends calls as they are (no timeout).
   * @defaultValue `{ timeoutMs: 3000, retries: 2, consecutiveFailures: 5, halfOpenAfterMs: 10000 }`
   */
  readonly resilience?: ResilienceOptions | false
}

/**
 * An Eden treaty client for one service: typed routes, request bodies and responses from the app's type.
 * @example const audit = createServiceTreaty<AuditApp>({ baseUrl, signer, audience: 'audit' })
 */
export const createServiceTreaty = <const App extends AnyElysia>(
  options: ServiceTreatyOptions,
): Treaty.Create<App> =>
  treaty<App>(options.baseUrl, {
    ...(options.resilience === false
      ? options.fetcher
        ? { fetcher: options.fetcher }
        : {}
      : { fetcher: createResilientFetch(options.audience, options.resilience, options.fetcher).fetch }),
    headers: async () => ({
      ...options.headers?.(),
      authorization: `Bearer ${await options.signer.sign({ audience: options.audience })}`,
    }),
  })
