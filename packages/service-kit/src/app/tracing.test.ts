import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import {
  InMemorySpanExporter,
  initTelemetry,
  injectTraceparent,
  SpanKind,
  type Telemetry,
} from '@flotilla/telemetry'
import { createTestServiceApp } from '../test-fixtures.ts'

// The kit's service app traces every request (httpTracing is part of it); feature routes come after.
const exporter = new InMemorySpanExporter()
let telemetry: Telemetry
let stopServer: (() => Promise<unknown>) | undefined

beforeAll(() => {
  telemetry = initTelemetry({ service: 'kit-test', exporter })
})
afterAll(async () => {
  await stopServer?.()
  await telemetry.close()
})

describe('httpTracing on a service-kit app', () => {
  it("continues the caller's trace and hands the handler a context that injectTraceparent sees", async () => {
    const published: string[] = []
    const app = createTestServiceApp({ name: 'kit-test' })
      .app.post('/v1/things/:id', ({ params }) => {
        const event = injectTraceparent(
          createEvent('user.deleted', { userId: params.id }, { source: 'kit-test' }),
        )
        published.push(event.traceparent ?? '')
        return { ok: true }
      })
      .listen(0)
    stopServer = () => app.stop()
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const response = await fetch(`http://127.0.0.1:${app.server!.port}/v1/things/u_9`, {
      method: 'POST',
      headers: { traceparent: incoming, 'x-request-id': 'req-kit-1' },
    })
    expect(response.status).toBe(200)
    for (let i = 0; i < 500 && exporter.getFinishedSpans().length === 0; i++) await Bun.sleep(10)
    const [span] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
    expect(span?.name).toBe('POST /v1/things/:id')
    expect(span?.attributes['http.request.id']).toBe('req-kit-1')
    expect(published[0]).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`)
  })
})
