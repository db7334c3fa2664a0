/** Facts about the caller taken from the request: client ip (socket or trusted proxy header), correlation. */
import type { Cause } from '../events.ts'

/** Something that can tell a request's peer address (Bun's `server.requestIP`). */
export interface PeerInfo {
  requestIP(request: Request): { address: string } | null
}

/**
 * The client ip: the value of `trustedHeader` when configured (behind a proxy that sets it; for
 * `x-forwarded-for` the last entry, the one our proxy appended), otherwise the socket's peer address.
 */
export const clientIp = (
  request: Request,
  server: PeerInfo | null | undefined,
  trustedHeader?: string,
): string => {
  if (trustedHeader) {
    const value = request.headers.get(trustedHeader)
    const last = value?.split(',').at(-1)?.trim()
    if (last && last.length <= 45) return last
  }
  return server?.requestIP(request)?.address ?? 'unknown'
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/
const CORRELATION = /^[\x21-\x7e]{1,200}$/

/** The envelope fields a request passes on to the events it causes. */
export const causeOf = (request: Request, actor?: { type: string; id: string }): Cause => {
  const correlationId = request.headers.get('x-correlation-id') ?? undefined
  const traceparent = request.headers.get('traceparent') ?? undefined
  return {
    ...(correlationId && CORRELATION.test(correlationId) ? { correlationId } : {}),
    ...(traceparent && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
    ...(actor ? { actor } : {}),
  }
}
