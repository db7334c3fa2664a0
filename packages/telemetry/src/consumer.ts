/** Consumer spans that continue the producer's trace from the envelope's `traceparent`. */
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { contextFromTraceparent } from './propagation.ts'
import { getTracer } from './setup.ts'

/** The envelope fields a consumer span reads. */
export interface TracedEvent {
  readonly id: string
  readonly type: string
  readonly source?: string
  readonly traceparent?: string
}

export interface ConsumerSpanOptions {
  /** Consumer group (`messaging.consumer.group.name`). */
  readonly group?: string | undefined
  /** Stream name (`messaging.destination.name`). */
  readonly stream?: string | undefined
  readonly streamId?: string | undefined
  readonly deliveryCount?: number | undefined
}

export interface ConsumerSpan {
  readonly span: Span
  /** The context with this span active: pass it to `injectTraceparent` when publishing outside `run`. */
  readonly context: Context
  /** Runs `fn` with the span active, records an error, and ends the span. */
  run<T>(fn: () => Promise<T> | T): Promise<T>
  /** Ends the span (with the error as its status, when given). Safe to call twice. */
  end(error?: unknown): void
}

/**
 * Starts a CONSUMER span whose parent is the producer's span, read from `event.traceparent`
 * (a new root trace when the event has none).
 * @example await startConsumerSpan(message.event, { group: 'audit' }).run(() => handle(message))
 */
export const startConsumerSpan = (event: TracedEvent, options: ConsumerSpanOptions = {}): ConsumerSpan => {
  const parent = contextFromTraceparent(event.traceparent)
  // One object, keys added only when present (a span per consumed event: no spread copies).
  const attributes: Attributes = {
    'messaging.system': 'redis',
    'messaging.operation.type': 'process',
    'messaging.message.id': event.id,
    'flotilla.event.type': event.type,
  }
  if (event.source) attributes['flotilla.event.source'] = event.source
  if (options.stream) attributes['messaging.destination.name'] = options.stream
  if (options.group) attributes['messaging.consumer.group.name'] = options.group
  if (options.streamId) attributes['flotilla.stream.id'] = options.streamId
  if (options.deliveryCount !== undefined) attributes['flotilla.delivery.count'] = options.deliveryCount
  const span = getTracer().startSpan(`process ${event.type}`, { kind: SpanKind.CONSUMER, attributes }, parent)
  // Built when first asked for: a batch handler's spans are only ended (each context copies the parent's map).
  let spanContext: Context | undefined
  const contextOf = () => (spanContext ??= trace.setSpan(parent, span))
  let ended = false
  const end = (error?: unknown) => {
    if (ended) return
    ended = true
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error))
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      })
    }
    span.end()
  }
  return {
    span,
    get context() {
      return contextOf()
    },
    end,
    run: async (fn) => {
      try {
        const result = await context.with(contextOf(), fn)
        end()
        return result
      } catch (error) {
        end(error)
        throw error
      }
    },
  }
}

/** The message shape of a `@flotilla/streams` consumer handler (only what tracing reads). */
export interface TraceableMessage {
  readonly event: TracedEvent
  readonly streamId?: string
  readonly group?: string
  readonly deliveryCount?: number
}

/**
 * Wraps a one-at-a-time stream handler so each message is handled inside a consumer span.
 * @example createConsumer({ ..., handler: traceHandler({ handle: (m) => router(m) }) })
 */
export const traceHandler = <M extends TraceableMessage>(handler: {
  handle(message: M): Promise<void>
}): { handle(message: M): Promise<void> } => ({
  handle: (message) =>
    startConsumerSpan(message.event, {
      group: message.group,
      streamId: message.streamId,
      deliveryCount: message.deliveryCount,
    }).run(() => handler.handle(message)),
})

/** What a batch handler returns: nothing when every message succeeded, or the failures by stream id. */
// biome-ignore lint/suspicious/noConfusingVoidType: mirrors the streams BatchHandler contract
type BatchResult = Map<string, Error> | void

/**
 * Wraps a batch handler so each message of the batch gets its own consumer span (continuing its producer's
 * trace); each span ends with the batch, with the message's failure (or the batch's thrown error) as status.
 * @example createConsumer({ ..., handler: traceBatchHandler({ handleBatch: (messages) => store.append(messages) }) })
 */
export const traceBatchHandler = <M extends TraceableMessage & { readonly streamId: string }>(handler: {
  handleBatch(messages: readonly M[]): Promise<BatchResult> | BatchResult
}): { handleBatch(messages: readonly M[]): Promise<BatchResult> } => ({
  handleBatch: async (messages) => {
    const spans = messages.map((m) =>
      startConsumerSpan(m.event, { group: m.group, streamId: m.streamId, deliveryCount: m.deliveryCount }),
    )
    let failures: Map<string, Error> | undefined
    let thrown: unknown
    try {
      const result = await handler.handleBatch(messages)
      if (result instanceof Map) failures = result
      return result
    } catch (error) {
      thrown = error
      throw error
    } finally {
      for (const [i, m] of messages.entries()) spans[i]?.end(thrown ?? failures?.get(m.streamId))
    }
  },
})

/**
 * Runs `fn` inside a new span (a child of the active one), recording a thrown error; the span ends when `fn`
 * settles. For work that is neither an HTTP request nor a consumed event: a publish, a job, an outbound call.
 * @example await inSpan('publish user.registered', () => publisher.publish(injectTraceparent(event)))
 */
export const inSpan = <T>(
  name: string,
  fn: () => Promise<T> | T,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> => {
  const span = getTracer().startSpan(name, { kind })
  const spanContext = trace.setSpan(context.active(), span)
  return context.with(spanContext, async () => {
    try {
      return await fn()
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error))
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      })
      throw error
    } finally {
      span.end()
    }
  })
}
