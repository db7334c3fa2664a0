/** A local OTLP/HTTP trace collector (JSON encoding, as the OpenTelemetry JS exporter sends it) for the flows. */

export interface CollectedSpan {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind?: number
}

interface OtlpValue {
  stringValue?: string
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value?: OtlpValue }[] }
    scopeSpans?: {
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number }[]
    }[]
  }[]
}

/** Starts the collector on a free port; `endpoint` goes into `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export const startCollector = () => {
  const spans: CollectedSpan[] = []
  let undecoded = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      if (new URL(request.url).pathname !== '/v1/traces' || request.method !== 'POST') {
        return new Response('not found', { status: 404 })
      }
      if (!request.headers.get('content-type')?.includes('json')) {
        undecoded += 1
        return Response.json({})
      }
      const body = (await request.json()) as OtlpExport
      for (const resource of body.resourceSpans ?? []) {
        const service =
          resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ??
          'unknown'
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service,
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              ...(span.kind === undefined ? {} : { kind: span.kind }),
            })
          }
        }
      }
      return Response.json({})
    },
  })
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    /** Spans of one trace, by service. */
    servicesIn: (traceId: string) =>
      new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.service)),
    spans: () => [...spans],
    /** Exports the collector could not read (protobuf encoding). */
    undecoded: () => undecoded,
    stop: () => server.stop(true),
  }
}
