/** W3C trace context in and out of envelopes and HTTP headers. */
import { type Context, context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api'

/** The `traceparent` of a context (the active one by default), or undefined when it holds no valid span. */
export const currentTraceparent = (ctx: Context = context.active()): string | undefined => {
  if (!trace.getSpanContext(ctx)) return undefined
  const carrier: Record<string, string> = {}
  propagation.inject(ctx, carrier)
  return carrier.traceparent
}

/**
 * Puts the active trace context into an event's `traceparent` before it is published, so the consumer's span
 * continues this trace. An event without an active span keeps the `traceparent` it has.
 * @example await publisher.publish(injectTraceparent(createEvent('user.registered', payload, { source })))
 */
export const injectTraceparent = <E extends { readonly traceparent?: string }>(
  event: E,
  ctx: Context = context.active(),
): E => {
  const traceparent = currentTraceparent(ctx)
  return traceparent ? { ...event, traceparent } : event
}

/** The context a `traceparent` value describes (root when it is missing or malformed). */
export const contextFromTraceparent = (traceparent: string | undefined): Context =>
  traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT

/**
 * Adds `traceparent` (and `tracestate`) of the active context to outgoing request headers.
 * @example fetch(url, { headers: traceHeaders({ authorization }) })
 */
export const traceHeaders = (headers: Record<string, string> = {}, ctx: Context = context.active()) => {
  const out = { ...headers }
  propagation.inject(ctx, out)
  return out
}
