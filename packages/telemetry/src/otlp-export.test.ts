import { describe, expect, it } from 'bun:test'
import { getTracer, initTelemetry } from './index.ts'

describe('OTLP/HTTP export', () => {
  it('posts spans to <endpoint>/v1/traces with the configured headers once an endpoint is set', async () => {
    const received: { path: string; apiKey: string | null; contentType: string | null; bytes: number }[] = []
    // A local collector stand-in: records what the real OTLP exporter sends.
    const collector = Bun.serve({
      port: 0,
      fetch: async (req) => {
        received.push({
          path: new URL(req.url).pathname,
          apiKey: req.headers.get('x-api-key'),
          contentType: req.headers.get('content-type'),
          bytes: (await req.arrayBuffer()).byteLength,
        })
        return new Response('{}', { headers: { 'content-type': 'application/json' } })
      },
    })
    const telemetry = initTelemetry({
      service: 'export-test',
      endpoint: `http://127.0.0.1:${collector.port}/`,
      headers: 'x-api-key=secret%20key',
    })
    try {
      expect(telemetry.exporting).toBe(true)
      getTracer().startSpan('exported work').end()
      await telemetry.flush()
      expect(received).toHaveLength(1)
      expect(received[0]).toMatchObject({ path: '/v1/traces', apiKey: 'secret key' })
      expect(received[0]?.contentType).toMatch(/^application\/(json|x-protobuf)/)
      expect(received[0]?.bytes).toBeGreaterThan(0)
    } finally {
      await telemetry.close()
      await collector.stop(true)
    }
  })
})
