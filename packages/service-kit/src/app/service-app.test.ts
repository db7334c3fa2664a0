import { describe, expect, it } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Elysia, t } from 'elysia'
import { requestContext } from '../logging/request-context-plugin.ts'
import { parseExposition } from '../metrics/exposition.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { captureLogger, createTestServiceApp, eventually, jsonInit, req } from '../test-fixtures.ts'
import { bodyLimit } from './body-limit.ts'
import { createServiceApp } from './service-app.ts'

const featureRoutes = new Elysia({ prefix: '/v1/widgets' })
  .use(requestContext)
  .get('/:id', ({ params, requestId }) => ({ id: params.id, requestId }), {
    params: t.Object({ id: t.String() }),
    detail: { tags: ['widgets'], summary: 'One widget' },
  })
  .post('/', ({ body }) => body, {
    body: t.Object({ name: t.String() }),
    detail: { tags: ['widgets'], summary: 'Create a widget' },
  })

describe('createServiceApp', () => {
  it('answers /health with the service, version, uptime and feature flags', async () => {
    const { app } = createTestServiceApp({ features: { digest: true } })
    const response = await app.handle(req('/health'))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'test',
      version: '1.2.3',
      uptime: expect.any(Number),
      features: { digest: true },
    })
  })

  it('answers /ready with 200 when every check passes, with their details', async () => {
    const { app } = createTestServiceApp({
      readiness: { redis: async () => {}, store: async () => 'libsql file' },
    })
    const response = await app.handle(req('/ready'))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ready',
      checks: { redis: { status: 'ok' }, store: { status: 'ok', detail: 'libsql file' } },
    })
  })

  it('answers /ready with 503 naming the failed and the timed-out checks', async () => {
    const { app } = createTestServiceApp({
      readinessTimeoutMs: 50,
      readiness: {
        redis: async () => {},
        store: async () => {
          throw new Error('database is locked')
        },
        consumer: () => new Promise(() => {}),
      },
    })
    const response = await app.handle(req('/ready'))
    expect(response.status).toBe(503)
    const body = (await response.json()) as {
      status: string
      checks: Record<string, { status: string; detail?: string }>
    }
    expect(body.status).toBe('unavailable')
    expect(body.checks.redis?.status).toBe('ok')
    expect(body.checks.store).toMatchObject({ status: 'failed', detail: 'database is locked' })
    expect(body.checks.consumer).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('timed out'),
    })
  })

  it('echoes a valid x-request-id and x-correlation-id, and generates a request id when absent', async () => {
    const { app } = createTestServiceApp()
    const given = await app
      .use(featureRoutes)
      .handle(req('/v1/widgets/7', { headers: { 'x-request-id': 'req-123', 'x-correlation-id': 'flow-9' } }))
    expect(given.headers.get('x-request-id')).toBe('req-123')
    expect(given.headers.get('x-correlation-id')).toBe('flow-9')
    expect(await given.json()).toEqual({ id: '7', requestId: 'req-123' })

    const generated = await app.handle(
      req('/v1/widgets/7', { headers: { 'x-request-id': 'bad id <script>' } }),
    )
    const id = generated.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(generated.headers.get('x-correlation-id')).toBe(id)
  })

  it('writes access lines only at a level that shows them, and records metrics at every level', async () => {
    const metered = async (level: 'info' | 'warn') => {
      const { lines, logger } = captureLogger('test', level)
      const metrics = createMetrics('test')
      const app = createServiceApp({ name: 'test', version: '1.2.3', logger, metrics }).use(featureRoutes)
      await app.handle(req('/v1/widgets/1', { headers: { 'x-request-id': `lvl-${level}` } }))
      await app.handle(req('/health'))
      // Metrics and the line are written in the same after-response hook: once both requests are counted,
      // every line they could write is there.
      await eventually(async () => {
        const text = await metrics.text()
        return text.includes('route="/v1/widgets/:id"') && text.includes('route="/health"') ? true : undefined
      })
      return lines.filter((l) => l.msg === 'request').map((l) => l.path)
    }
    // info: the route's line, not the probe's (a debug line); warn: none, though both are counted.
    expect(await metered('info')).toEqual(['/v1/widgets/1'])
    expect(await metered('warn')).toEqual([])
  })

  it('writes one access log line per request with both ids and the route pattern', async () => {
    const { app, lines } = createTestServiceApp()
    app.use(featureRoutes)
    await app.handle(
      req('/v1/widgets/42', { headers: { 'x-request-id': 'log-1', authorization: 'Bearer secret' } }),
    )
    const line = await eventually(() => lines.find((l) => l.msg === 'request' && l.requestId === 'log-1'))
    expect(line).toMatchObject({
      method: 'GET',
      path: '/v1/widgets/42',
      route: '/v1/widgets/:id',
      status: 200,
      correlationId: 'log-1',
    })
    expect(JSON.stringify(lines)).not.toContain('Bearer secret')
  })

  it('serves /metrics as valid exposition text holding the HTTP histogram of a route pattern', async () => {
    const { app, metrics } = createTestServiceApp()
    app.use(featureRoutes)
    await app.handle(req('/v1/widgets/1'))
    await app.handle(req('/v1/widgets', jsonInit({ name: 'w' })))
    await eventually(async () =>
      parseExposition(await metrics.text()).samples.find(
        (s) => s.name === 'http_request_duration_seconds_count' && s.labels.method === 'POST',
      ),
    )
    const response = await app.handle(req('/metrics'))
    expect(response.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const { samples, types } = parseExposition(await response.text())
    expect(types.get('http_request_duration_seconds')).toBe('histogram')
    const count = samples.find(
      (s) => s.name === 'http_request_duration_seconds_count' && s.labels.route === '/v1/widgets/:id',
    )
    expect(count).toMatchObject({ labels: { method: 'GET', status: '200', service: 'test' }, value: 1 })
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true)
  })

  it('serves /swagger/json as a valid OpenAPI 3 document listing the routes', async () => {
    const { app } = createTestServiceApp({
      swagger: { title: 'Widgets', description: 'Widget API', tags: [{ name: 'widgets' }] },
    })
    app.use(featureRoutes)
    const response = await app.handle(req('/swagger/json'))
    expect(response.status).toBe(200)
    const document = (await response.json()) as {
      openapi: string
      info: { title: string; version: string }
      paths: Record<string, unknown>
    }
    expect(document.openapi).toStartWith('3.')
    expect(document.info).toMatchObject({ title: 'Widgets', version: '1.2.3' })
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health', '/ready', '/metrics', '/v1/widgets/{id}', '/v1/widgets/']),
    )
    expect(Object.keys(document.paths).some((p) => p.startsWith('/swagger'))).toBe(false)
    const result = await new Validator().validate(document)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('refuses unknown and wrongly shaped body fields with 422 instead of stripping them', async () => {
    const { app } = createTestServiceApp()
    const routes = app.post('/v1/things', ({ body }) => ({ name: body.name }), {
      body: t.Object({ name: t.String(), device: t.Optional(t.Object({ id: t.Optional(t.String()) })) }),
      response: t.Object({ name: t.String() }),
    })
    const post = (body: unknown) => routes.handle(req('/v1/things', jsonInit(body)))
    expect((await post({ name: 'a' })).status).toBe(200)
    const statuses = []
    for (const bad of [
      { name: 'a', extra: 1 },
      { name: 'a', device: [1, 2] },
    ])
      statuses.push((await post(bad)).status)
    expect(statuses).toEqual([422, 422])
  })

  it('answers 500 (not 422) when a handler returns a body its response schema refuses', async () => {
    const { app } = createTestServiceApp()
    const routes = app.get('/v1/leaky', () => ({ name: 'a', secret: 'x' }), {
      response: t.Object({ name: t.String() }),
    })
    const response = await routes.handle(req('/v1/leaky'))
    expect(response.status).toBe(500)
    expect(JSON.stringify(await response.json())).not.toContain('secret')
  })

  it('documents request bodies and paths with a dot (/.well-known/…) in the OpenAPI document', async () => {
    const { app } = createTestServiceApp()
    const routes = app
      .post('/v1/things', ({ body }) => body, { body: t.Object({ name: t.String() }) })
      .get('/.well-known/thing.json', () => ({ ok: true }))
    const doc = (await (await routes.handle(req('/swagger/json'))).json()) as {
      paths: Record<string, { post?: { requestBody?: { content: Record<string, unknown> } } }>
    }
    expect(doc.paths['/v1/things']?.post?.requestBody?.content['application/json']).toBeDefined()
    expect(doc.paths['/.well-known/thing.json']).toBeDefined()
  })

  it('serves the Swagger UI page with every asset it references from the app itself', async () => {
    const { app } = createTestServiceApp()
    const page = await app.handle(req('/swagger'))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    const references = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
      (m) => m[1]!,
    )
    expect(references.length).toBeGreaterThanOrEqual(2)
    expect(html).not.toMatch(/https?:\/\//)
    for (const reference of references) {
      // Relative to the page, so the page works under the gateway's /<service>/swagger too.
      expect(reference).not.toStartWith('/')
      const asset = await app.handle(new Request(new URL(reference, 'http://localhost/swagger')))
      expect(asset.status).toBe(200)
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000)
    }
    expect(references.some((r) => r.endsWith('swagger-ui-bundle.js'))).toBe(true)
    expect(html).toContain('"url":"swagger/json"')
  })

  it('answers 404 for a Swagger asset that is not on the list', async () => {
    const { app } = createTestServiceApp()
    expect((await app.handle(req('/swagger/assets/..%2Fpackage.json'))).status).toBe(404)
    expect((await app.handle(req('/swagger/assets/index.html'))).status).toBe(404)
  })
})

describe('createServiceApp on a listening server', () => {
  it('answers an oversized body with the JSON 413, declared or chunked (Bun must not cut in first)', async () => {
    const { app } = createTestServiceApp({ bodyLimitBytes: 1024 })
    app.use(new Elysia().post('/v1/echo', ({ body }) => body, { body: t.Object({ a: t.String() }) }))
    app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const url = `http://127.0.0.1:${app.server?.port}/v1/echo`
      const post = (body: BodyInit) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      expect((await post(JSON.stringify({ a: 'small' }))).status).toBe(200)
      const declared = await post(JSON.stringify({ a: 'x'.repeat(4096) }))
      expect(declared.status).toBe(413)
      expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
      const chunks = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(512)))
          controller.close()
        },
      })
      const chunked = await post(chunks)
      expect(chunked.status).toBe(413)
      expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
      // A chunked body within the limit is counted, then its media type checked like a declared one's.
      const small = () =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(JSON.stringify({ a: 'chunked' })))
            controller.close()
          },
        })
      const fine = await post(small())
      expect(fine.status).toBe(200)
      expect(await fine.json()).toEqual({ a: 'chunked' })
      const wrongType = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: small(),
      })
      expect(wrongType.status).toBe(415)
    } finally {
      await app.stop(true)
    }
  })
})

describe('access logs and metrics', () => {
  it('record the status of a Response a handler returns itself', async () => {
    const { app, lines } = createTestServiceApp()
    app.get('/v1/raw', () => new Response('gone', { status: 410 }))
    await app.handle(req('/v1/raw', { headers: { 'x-request-id': 'raw-1' } }))
    const line = await eventually(() => lines.find((l) => l.requestId === 'raw-1' && l.msg === 'request'))
    expect(line.status).toBe(410)
  })
})

describe('bodyLimit', () => {
  it('gives one route family a smaller limit than the app', async () => {
    const { app } = createTestServiceApp({ bodyLimitBytes: 4096 })
    app
      .use(new Elysia({ prefix: '/v1/small' }).use(bodyLimit(64)).post('/', ({ body }) => body))
      .post('/v1/large', ({ body }) => body)
    const payload = { text: 'x'.repeat(200) }
    const small = await app.handle(req('/v1/small', jsonInit(payload)))
    expect(small.status).toBe(413)
    expect(await small.json()).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 64 } },
    })
    expect((await app.handle(req('/v1/small', jsonInit({ text: 'ok' })))).status).toBe(200)
    expect((await app.handle(req('/v1/large', jsonInit(payload)))).status).toBe(200)
  })
})

describe('createServiceApp without dead letters', () => {
  it('answers the inspector routes with 401 in the error shape, never 500', async () => {
    const { app } = createTestServiceApp()
    const response = await app.handle(
      req('/v1/dead-letters', { headers: { authorization: 'Bearer abc.def.ghi' } }),
    )
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_TOKEN')
  })
})
