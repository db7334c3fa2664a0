/** Process-wide tracing setup: tracer provider, W3C propagator, context manager, optional OTLP export. */
import { context, propagation, type Tracer, trace } from '@opentelemetry/api'
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions'
import { parseOtlpHeaders } from './config.ts'
import { RequestContextManager } from './context-manager.ts'

export interface TelemetryOptions {
  /** Service name on every span (`auth`, `notifications`, …). */
  readonly service: string
  readonly version?: string
  /** OTLP/HTTP base URL; `/v1/traces` is appended. Unset (the default): nothing is exported. */
  readonly endpoint?: string | undefined
  /** `OTEL_EXPORTER_OTLP_HEADERS` as given (`k=v,k2=v2`). */
  readonly headers?: string
  /** Ratio of new root traces sampled. @defaultValue 1 */
  readonly sampleRatio?: number
  /** Export to this exporter synchronously instead (tests use `InMemorySpanExporter`). */
  readonly exporter?: SpanExporter
}

export interface Telemetry {
  readonly tracer: Tracer
  /** True when spans leave the process (an endpoint or an exporter was given). */
  readonly exporting: boolean
  /** Exports what is buffered. */
  flush(): Promise<void>
  /** Flushes, then unregisters the globals; safe to call twice. */
  close(): Promise<void>
}

let contextManager: RequestContextManager | undefined

/**
 * The OTLP/HTTP exporter, loaded with its first batch: most processes export nothing, and its modules add
 * ~10 MiB of resident memory to every service at boot (measured on Bun 1.4).
 */
const lazyOtlpExporter = (config: { url: string; headers: Record<string, string> }): SpanExporter => {
  let loaded: Promise<SpanExporter> | undefined
  const load = () =>
    (loaded ??= import('@opentelemetry/exporter-trace-otlp-http').then(
      ({ OTLPTraceExporter }) => new OTLPTraceExporter(config),
    ))
  return {
    export(spans, done) {
      load().then(
        (exporter) => exporter.export(spans, done),
        (error: Error) => done({ code: ExportResultCode.FAILED, error }),
      )
    },
    shutdown: async () => {
      if (loaded) await (await loaded).shutdown()
    },
    forceFlush: async () => {
      if (loaded) await (await loaded).forceFlush?.()
    },
  }
}

/** The context manager registered by `initTelemetry` (the HTTP plugin enters request contexts through it). */
export const activeContextManager = (): RequestContextManager | undefined => contextManager

/**
 * Registers tracing for this process. Spans always get ids (so `traceparent` flows through HTTP and the
 * stream, and logs can carry trace ids), but they are exported only when an endpoint or exporter is given.
 * @example
 * const telemetry = initTelemetry({ service: 'auth', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT })
 * onShutdown(() => telemetry.close(), logger)
 */
export const initTelemetry = (options: TelemetryOptions): Telemetry => {
  const processors: SpanProcessor[] = []
  if (options.exporter) processors.push(new SimpleSpanProcessor({ exporter: options.exporter }))
  if (options.endpoint) {
    const exporter = lazyOtlpExporter({
      url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
      headers: parseOtlpHeaders(options.headers),
    })
    processors.push(new BatchSpanProcessor({ exporter }))
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.service,
      ...(options.version ? { [ATTR_SERVICE_VERSION]: options.version } : {}),
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    spanProcessors: processors,
  })
  // A second init in one process (tests) replaces the first instead of being silently ignored.
  trace.disable()
  context.disable()
  propagation.disable()
  contextManager = new RequestContextManager()
  context.setGlobalContextManager(contextManager)
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)

  let closing: Promise<void> | undefined
  return {
    tracer: provider.getTracer(`@flotilla/${options.service}`, options.version),
    exporting: processors.length > 0,
    flush: () => provider.forceFlush(),
    close: () => {
      closing ??= (async () => {
        try {
          await provider.shutdown()
        } finally {
          trace.disable()
          context.disable()
          propagation.disable()
          contextManager = undefined
        }
      })()
      return closing
    },
  }
}

/** The tracer of the registered provider (a no-op tracer before `initTelemetry`). */
export const getTracer = (): Tracer => trace.getTracer('@flotilla/telemetry')
