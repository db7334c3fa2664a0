/** @flotilla/telemetry — OpenTelemetry tracing for the apps: HTTP spans, trace context through the stream. */

export { SpanKind } from '@opentelemetry/api'
export type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'
export { InMemorySpanExporter } from '@opentelemetry/sdk-trace'
export type { TelemetryConfig } from './config.ts'
export { parseOtlpHeaders, TelemetryConfigSchema, telemetryOptionsOf } from './config.ts'
export type { ConsumerSpan, ConsumerSpanOptions, TraceableMessage, TracedEvent } from './consumer.ts'
export { inSpan, startConsumerSpan, traceBatchHandler, traceHandler } from './consumer.ts'
export type { HttpTracingOptions } from './http.ts'
export { activeTraceId, httpTracing } from './http.ts'
export { contextFromTraceparent, currentTraceparent, injectTraceparent, traceHeaders } from './propagation.ts'
export type { Telemetry, TelemetryOptions } from './setup.ts'
export { getTracer, initTelemetry } from './setup.ts'
