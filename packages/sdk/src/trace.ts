/** W3C trace context for a monolith request: continue the caller's trace or start one, and hand it on. */
import { randomBytes } from 'node:crypto'

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const ZERO_TRACE = '0'.repeat(32)

export interface TraceContext {
  /** 32 hex digits, the same in every service the request reaches. */
  readonly traceId: string
  /** This hop's `traceparent` (new span id), for events and outgoing calls. */
  readonly traceparent: string
}

/**
 * Continues the trace of an incoming `traceparent` header (a new span id under the same trace id), or starts
 * a new sampled trace when the header is missing or malformed.
 * @example const { traceparent } = continueTrace(request.headers.get('traceparent'))
 */
export const continueTrace = (incoming?: string | null): TraceContext => {
  const match = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null
  const traceId = match?.[1] && match[1] !== ZERO_TRACE ? match[1] : randomBytes(16).toString('hex')
  const flags = match?.[1] && match[1] !== ZERO_TRACE ? (match[3] ?? '01') : '01'
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}` }
}
