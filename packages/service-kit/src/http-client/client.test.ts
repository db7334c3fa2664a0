import { afterAll, describe, expect, it } from 'bun:test'
import { createServiceTokenSigner, createServiceTokenVerifier, parseKeyRing } from '@flotilla/contracts'
import { AppError } from '../errors/app-error.ts'
import { createServiceClient, parseRetryAfter, UpstreamError } from './client.ts'
import { serviceUrl } from './service-url.ts'

const ring = parseKeyRing('http-client-test-secret-0123456789abcdef')
const signer = createServiceTokenSigner(ring, 'notifications')
const verifier = createServiceTokenVerifier(ring, { audience: 'auth' })

type Script = (request: Request, attempt: number) => Response | Promise<Response>

/** A local server whose answer per path is scripted; records every request it receives. */
const servers: ReturnType<typeof Bun.serve>[] = []
const startServer = (script: Script) => {
  const seen: { request: Request; body: string; service: string | undefined; jti: unknown }[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''
      const verified = await verifier.verify(token).catch(() => undefined)
      // The body is read here: once the answer is sent, the connection may close under a late read.
      const body = await request.text()
      seen.push({ request, body, service: verified?.service, jti: verified?.claims.jti })
      return script(request, seen.length)
    },
  })
  servers.push(server)
  return { baseUrl: `http://127.0.0.1:${server.port}`, seen }
}
afterAll(() => {
  for (const server of servers) server.stop(true)
})

const client = (baseUrl: string, overrides: Partial<Parameters<typeof createServiceClient>[0]> = {}) =>
  createServiceClient({
    service: 'notifications',
    target: 'auth',
    baseUrl,
    signer,
    backoffMs: 5,
    ...overrides,
  })

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe('createServiceClient', () => {
  it('retries a 503 and then succeeds, with a valid service token on each attempt', async () => {
    const { baseUrl, seen } = startServer((_, attempt) =>
      attempt < 3 ? new Response('busy', { status: 503 }) : Response.json({ ok: true }),
    )
    expect(await client(baseUrl).json('/v1/sessions/s1')).toEqual({ ok: true })
    expect(seen).toHaveLength(3)
    expect(seen.every((s) => s.service === 'notifications')).toBe(true)
    // The signer hands out one token per audience for half its lifetime.
    expect(new Set(seen.map((s) => s.jti)).size).toBe(1)
    const fresh = createServiceTokenSigner(ring, 'notifications', { reuse: false })
    const second = startServer(() => Response.json({ ok: true }))
    await client(second.baseUrl, { signer: fresh }).json('/v1/a')
    await client(second.baseUrl, { signer: fresh }).json('/v1/b')
    expect(new Set(second.seen.map((s) => s.jti)).size).toBe(2)
  })

  it('retries a 429 that carries Retry-After', async () => {
    const { baseUrl, seen } = startServer((_, attempt) =>
      attempt === 1
        ? new Response('slow down', { status: 429, headers: { 'retry-after': '0' } })
        : Response.json({ ok: 1 }),
    )
    expect((await client(baseUrl).request('/v1/x')).status).toBe(200)
    expect(seen).toHaveLength(2)
  })

  it('hands back a 429 whose Retry-After is longer than it would wait, without retrying sooner', async () => {
    const { baseUrl, seen } = startServer(
      () => new Response('later', { status: 429, headers: { 'retry-after': '3600' } }),
    )
    const response = await client(baseUrl).request('/v1/x')
    expect(response.status).toBe(429)
    expect(seen).toHaveLength(1)
  })

  it('returns the last 5xx once the retries are spent, and json() turns it into an UpstreamError', async () => {
    const { baseUrl, seen } = startServer(() => Response.json({ error: { code: 'DOWN' } }, { status: 500 }))
    const error = await failure(client(baseUrl, { retries: 2 }).json('/v1/x'))
    expect(error).toBeInstanceOf(UpstreamError)
    expect((error as UpstreamError).upstreamStatus).toBe(500)
    expect((error as UpstreamError).upstreamBody).toEqual({ error: { code: 'DOWN' } })
    expect(seen).toHaveLength(3)
  })

  it('does not retry a POST unless the call is marked idempotent', async () => {
    const { baseUrl, seen } = startServer((_, attempt) =>
      attempt <= 2 ? new Response(null, { status: 503 }) : Response.json({ ok: true }),
    )
    const c = client(baseUrl)
    expect((await c.request('/v1/x', { method: 'POST', json: { a: 1 } })).status).toBe(503)
    expect(seen).toHaveLength(1)
    const retried = await c.request('/v1/x', { method: 'POST', json: { a: 1 }, idempotent: true })
    expect(retried.status).toBe(200)
    expect(seen).toHaveLength(3)
    expect(JSON.parse(seen[2]!.body)).toEqual({ a: 1 })
  })

  it('opens the circuit after consecutive failures and then fails fast without calling', async () => {
    const { baseUrl, seen } = startServer(() => new Response(null, { status: 502 }))
    const c = client(baseUrl, { retries: 0, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await c.request('/v1/x')).status).toBe(502)
    expect(c.breakerState()).toBe('open')
    const error = await failure(c.request('/v1/x'))
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).status).toBe(503)
    expect((error as AppError).code).toBe('UPSTREAM_UNAVAILABLE')
    expect(seen).toHaveLength(3)
  })

  it('times out a slow server with 504 UPSTREAM_TIMEOUT', async () => {
    const { baseUrl } = startServer(async () => {
      await Bun.sleep(2000)
      return Response.json({ late: true })
    })
    const error = await failure(client(baseUrl, { timeoutMs: 100, retries: 0 }).request('/v1/slow'))
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).code).toBe('UPSTREAM_TIMEOUT')
    expect((error as AppError).status).toBe(504)
  })

  it('retries an unreachable service and then fails with 502 UPSTREAM_UNREACHABLE', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const baseUrl = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    const error = await failure(client(baseUrl, { retries: 1 }).request('/v1/x'))
    expect((error as AppError).code).toBe('UPSTREAM_UNREACHABLE')
  })

  it('forwards request id, correlation id and traceparent', async () => {
    const { baseUrl, seen } = startServer(() => Response.json({}))
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await client(baseUrl).request('/v1/x', { requestId: 'r-1', correlationId: 'c-1', traceparent })
    const headers = seen[0]!.request.headers
    expect([
      headers.get('x-request-id'),
      headers.get('x-correlation-id'),
      headers.get('traceparent'),
    ]).toEqual(['r-1', 'c-1', traceparent])
  })

  it('serves as a fetch for other clients, and never sends its token to another origin', async () => {
    const { baseUrl, seen } = startServer((request) => Response.json({ path: new URL(request.url).pathname }))
    const c = client(baseUrl)
    const response = await c.fetch(`${baseUrl}/v1/y`, {
      method: 'PUT',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    })
    expect(await response.json()).toEqual({ path: '/v1/y' })
    expect(seen[0]?.service).toBe('notifications')
    expect(await failure(c.fetch('http://example.com/steal'))).toBeInstanceOf(Error)
    expect(seen).toHaveLength(1)
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(null)).toBeUndefined()
  })
})

describe('serviceUrl', () => {
  it('prefers <APP>_URL, then Fly private DNS, then localhost ports', () => {
    expect(serviceUrl('auth', { AUTH_URL: 'https://auth.example/' })).toBe('https://auth.example')
    expect(serviceUrl('audit', { FLY_APP_NAME: 'flotilla-notifications' })).toBe(
      'http://flotilla-audit.internal:3003',
    )
    expect(serviceUrl('analytics', {})).toBe('http://127.0.0.1:3004')
    expect(serviceUrl('notifications', {})).toBe('http://127.0.0.1:3002')
  })
})
