/** Fault injection shared by the fake providers: scripted faults first, then random ones by rate. */

export type Fault =
  | {
      readonly kind: 'status'
      readonly status: number
      readonly body?: unknown
      readonly retryAfter?: string
    }
  /** Accept the request (the provider did its work), then answer only after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }

export interface FaultOptions {
  /** Share of requests answered with 503 (before any work is done). @defaultValue 0 */
  readonly failureRate?: number
  /** Share of requests accepted but answered after `slowMs`. @defaultValue 0 */
  readonly slowRate?: number
  /** @defaultValue 2000 */
  readonly slowMs?: number
  /** @defaultValue Math.random */
  readonly random?: () => number
}

export interface FaultPlan {
  /** Scripts the next request's fault (queued in order). */
  next(fault: Fault): void
  /** The fault for the request now arriving, if any. */
  take(unavailableBody: unknown): Fault | undefined
  /** How many faults were injected, by kind. */
  readonly injected: { status: number; slow: number }
}

export const createFaultPlan = (options: FaultOptions = {}): FaultPlan => {
  const queue: Fault[] = []
  const random = options.random ?? Math.random
  const injected = { status: 0, slow: 0 }
  return {
    next: (fault) => {
      queue.push(fault)
    },
    take(unavailableBody) {
      let fault = queue.shift()
      if (!fault) {
        const roll = random()
        const failureRate = options.failureRate ?? 0
        if (roll < failureRate) fault = { kind: 'status', status: 503, body: unavailableBody }
        else if (roll < failureRate + (options.slowRate ?? 0))
          fault = { kind: 'slow', ms: options.slowMs ?? 2000 }
      }
      if (fault) injected[fault.kind]++
      return fault
    },
    injected,
  }
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

/** Answers a status fault. */
export const faultResponse = (fault: Extract<Fault, { kind: 'status' }>) =>
  json(
    fault.status,
    fault.body ?? { message: 'injected failure' },
    fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
  )
