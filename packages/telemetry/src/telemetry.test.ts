import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent, decodeEntry, encodeEntry } from '@flotilla/contracts'
import { context, SpanKind, trace } from '@opentelemetry/api'
import { Elysia } from 'elysia'
import {
  currentTraceparent,
  getTracer,
  httpTracing,
  InMemorySpanExporter,
  initTelemetry,
  injectTraceparent,
  startConsumerSpan,
  type Telemetry,
  traceBatchHandler,
  traceHeaders,
} from './index.ts'

const redis = new Bun.RedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const stream = `telemetry-test:${crypto.randomUUID()}`
const exporter = new InMemorySpanExporter()
let telemetry: Telemetry

beforeAll(() => {
  telemetry = initTelemetry({ service: 'telemetry-test', exporter })
})
afterEach(() => exporter.reset())
afterAll(async () => {
  await redis.send('DEL', [stream])
  redis.close()
  await telemetry.close()
})

/** Waits until the exporter holds `count` spans (Elysia ends server spans after the response is sent). */
const finishedSpans = async (count: number) => {
  for (let i = 0; i < 500 && exporter.getFinishedSpans().length < count; i++) await Bun.sleep(10)
  return exporter.getFinishedSpans()
}

/** Reads every entry of the test stream back through the contract codec. */
const readEvents = async () => {
  const rows = (await redis.send('XRANGE', [stream, '-', '+'])) as [string, string[]][]
  return rows.map(([, flat]) => {
    const fields: Record<string, string> = {}
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!
    const decoded = decodeEntry(fields)
    if (!decoded.ok) throw new Error('entry did not decode')
    return decoded.event
  })
}

describe('trace context through HTTP and the stream', () => {
  it('gives the consumer span and its outbound call the trace id of the producer that published the event', async () => {
    // The outbound service the consumer calls (a stand-in for Resend or another app): records the header.
    const seen: (string | null)[] = []
    const outbound = Bun.serve({
      port: 0,
      fetch: (req) => {
        seen.push(req.headers.get('traceparent'))
        return new Response('ok')
      },
    })
    // The service that receives the monolith's HTTP call and publishes a fact.
    const app = new Elysia()
      .use(httpTracing())
      .post('/v1/users/:id', async ({ params }) => {
        const event = createEvent(
          'user.registered',
          { userId: params.id, email: `${params.id}@example.com` },
          { source: 'auth' },
        )
        await redis.send('XADD', [stream, '*', ...encodeEntry(injectTraceparent(event))])
        return { ok: true }
      })
      .listen(0)
    try {
      // The monolith: one span around its HTTP call, propagated as a traceparent header.
      const monolith = getTracer().startSpan('monolith signup', { kind: SpanKind.CLIENT })
      const headers = traceHeaders({}, trace.setSpan(context.active(), monolith))
      const response = await fetch(`http://127.0.0.1:${app.server!.port}/v1/users/u_1`, {
        method: 'POST',
        headers,
      })
      expect(response.status).toBe(200)
      monolith.end()

      const [event] = await readEvents()
      expect(event?.traceparent).toBeDefined()
      const consumer = startConsumerSpan(event!, { group: 'notifications', stream })
      await consumer.run(() => fetch(`http://127.0.0.1:${outbound.port}/send`, { headers: traceHeaders() }))

      const spans = await finishedSpans(3)
      const server = spans.find((s) => s.kind === SpanKind.SERVER)
      const consumed = spans.find((s) => s.kind === SpanKind.CONSUMER)
      const traceId = monolith.spanContext().traceId
      expect(server?.spanContext().traceId).toBe(traceId)
      expect(server?.parentSpanContext?.spanId).toBe(monolith.spanContext().spanId)
      expect(server?.name).toBe('POST /v1/users/:id')
      expect(server?.attributes['http.response.status_code']).toBe(200)
      expect(consumed?.spanContext().traceId).toBe(traceId)
      expect(consumed?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId)
      expect(consumed?.attributes['messaging.consumer.group.name']).toBe('notifications')
      expect(seen[0]).toBe(`00-${traceId}-${consumed?.spanContext().spanId}-01`)
    } finally {
      await app.stop()
      await outbound.stop()
    }
  })

  it('starts a new trace for an event published without a traceparent, and records handler errors', async () => {
    const event = createEvent('user.deleted', { userId: 'u_2' }, { source: 'monolith' })
    expect(event.traceparent).toBeUndefined()
    const consumer = startConsumerSpan(event, { group: 'audit' })
    await expect(consumer.run(() => Promise.reject(new Error('store down')))).rejects.toThrow('store down')
    const [span] = exporter.getFinishedSpans()
    expect(span?.parentSpanContext).toBeUndefined()
    expect(span?.status.code).toBe(2)
    expect(span?.status.message).toBe('store down')
  })

  it('gives each message of a batch its own consumer span, failed ones marked with their error', async () => {
    const producer = getTracer().startSpan('monolith publish')
    const ctx = trace.setSpan(context.active(), producer)
    const message = (streamId: string, userId: string) => ({
      streamId,
      group: 'audit',
      deliveryCount: 1,
      event: injectTraceparent(createEvent('user.deleted', { userId }, { source: 'monolith' }), ctx),
    })
    producer.end()
    const handler = traceBatchHandler({
      handleBatch: async (messages: readonly ReturnType<typeof message>[]) =>
        new Map([[messages[1]!.streamId, new Error('bad row')]]),
    })
    const failures = await handler.handleBatch([message('1-0', 'u_a'), message('1-1', 'u_b')])
    expect(failures?.size).toBe(1)
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER)
    expect(spans.map((s) => s.spanContext().traceId)).toEqual([
      producer.spanContext().traceId,
      producer.spanContext().traceId,
    ])
    expect(spans.map((s) => s.status.code)).toEqual([0, 2])
    expect(spans[1]?.status.message).toBe('bad row')
  })

  it('leaves an event untouched when no span is active', () => {
    const event = createEvent('user.deleted', { userId: 'u_3' }, { source: 'monolith' })
    expect(currentTraceparent()).toBeUndefined()
    expect(injectTraceparent(event)).toBe(event)
  })

  it('opens no span for health probes', async () => {
    const app = new Elysia()
      .use(httpTracing())
      .get('/health', () => 'ok')
      .get('/v1/x', () => 'x')
    await app.handle(new Request('http://localhost/health'))
    await app.handle(new Request('http://localhost/v1/x'))
    expect((await finishedSpans(1)).map((s) => s.name)).toEqual(['GET /v1/x'])
  })
})

describe('initTelemetry', () => {
  it('exports nothing unless an endpoint or exporter is configured', async () => {
    const quiet = initTelemetry({ service: 'quiet' })
    expect(quiet.exporting).toBe(false)
    await quiet.close()
    telemetry = initTelemetry({ service: 'telemetry-test', exporter })
    expect(telemetry.exporting).toBe(true)
  })
})
