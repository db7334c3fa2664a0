import { describe, expect, it } from 'bun:test'
import {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  decodeEntry,
  parseKeyRing,
} from '@flotilla/contracts'
import { createRedisConnection } from '@flotilla/streams'
import { Elysia, t } from 'elysia'
import { serviceAuth } from '../auth/plugins.ts'
import { createTestServiceApp, jsonInit, req } from '../test-fixtures.ts'
import { conflict, forbidden, tooManyRequests } from './app-error.ts'

const ring = parseKeyRing('error-shapes-test-secret-0123456789abcdef')
const verifier = createServiceTokenVerifier(ring, { audience: 'test' })

const build = () => {
  const { app, lines } = createTestServiceApp({ bodyLimitBytes: 1024 })
  return {
    lines,
    app: app.use(
      new Elysia()
        .post('/v1/things', ({ body }) => body, {
          body: t.Object(
            { name: t.String({ minLength: 1 }), count: t.Integer() },
            { additionalProperties: false },
          ),
        })
        .get('/v1/things', ({ query }) => query, { query: t.Object({ search: t.String({ minLength: 3 }) }) })
        .get('/v1/limited', () => {
          throw tooManyRequests(2.2)
        })
        .get('/v1/taken', () => {
          throw conflict('already there', { details: { id: 'x' } })
        })
        .get('/v1/nope', () => {
          throw forbidden()
        })
        .get('/v1/event', () => {
          const decoded = decodeEntry({
            type: 'user.registered',
            event: JSON.stringify({ type: 'user.registered' }),
          })
          if (!decoded.ok) throw decoded.error
          return decoded.event
        })
        .get('/v1/boom', () => {
          throw new Error('database password is hunter2')
        })
        .get('/v1/redis-offline', async () => {
          // What a real ioredis client throws for a command sent while its connection is down.
          const redis = createRedisConnection('redis://127.0.0.1:9', 'request', {
            lazyConnect: true,
            enableOfflineQueue: false,
            retryStrategy: () => null,
          })
          try {
            return await redis.get('x')
          } finally {
            redis.disconnect()
          }
        })
        .get('/v1/redis-timeout', () => {
          throw new Error('Command timed out')
        })
        .use(new Elysia().use(serviceAuth({ verifier })).get('/v1/private', ({ caller }) => caller)),
    ),
  }
}

const bodyOf = async (response: Response) =>
  (await response.json()) as { error: { code: string; message: string; details?: unknown } }

describe('error shapes', () => {
  const { app, lines } = build()

  /** GET `path`: the status and error code it answers, and its headers. */
  const errorAt = async (path: string) => {
    const response = await app.handle(req(path))
    return { answer: [response.status, (await bodyOf(response)).error.code], headers: response.headers }
  }

  it('renders validation failures as 422 VALIDATION_FAILED with every field path', async () => {
    const response = await app.handle(req('/v1/things', jsonInit({ name: '', count: 'x', extra: true })))
    expect(response.status).toBe(422)
    const { error } = await bodyOf(response)
    expect(error.code).toBe('VALIDATION_FAILED')
    const paths = (error.details as { path: string }[]).map((d) => d.path)
    expect(paths).toEqual(expect.arrayContaining(['/name', '/count']))
    for (const detail of error.details as { path: string; message: string }[])
      expect(detail.message).toBeString()
  })

  it('says which request part failed when it is not the body', async () => {
    const response = await app.handle(req('/v1/things?search=ab'))
    expect(response.status).toBe(422)
    expect((await bodyOf(response)).error.details).toEqual([
      { path: '/search', message: expect.any(String), in: 'query' },
    ])
  })

  it('renders broken JSON as 400 MALFORMED_JSON', async () => {
    const response = await app.handle(req('/v1/things', jsonInit('{"name": "a", ')))
    expect(response.status).toBe(400)
    expect((await bodyOf(response)).error.code).toBe('MALFORMED_JSON')
  })

  it('refuses a body that is not JSON with 415', async () => {
    const response = await app.handle(
      req('/v1/things', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<thing/>' }),
    )
    expect(response.status).toBe(415)
    expect((await bodyOf(response)).error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { accepted: ['application/json'] },
    })
  })

  it('refuses a declared content-length over the limit with 413 before reading', async () => {
    const response = await app.handle(
      req('/v1/things', jsonInit({ name: 'a', count: 1 }, { headers: { 'content-length': '999999' } })),
    )
    expect(response.status).toBe(413)
    expect((await bodyOf(response)).error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      details: { limitBytes: 1024 },
    })
  })

  it('refuses a body over the limit that declares no length with 413', async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(`"${'x'.repeat(500)}",`))
        controller.close()
      },
    })
    const request = req('/v1/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
    })
    expect(request.headers.get('content-length')).toBeNull()
    const response = await app.handle(request)
    expect(response.status).toBe(413)
    expect((await bodyOf(response)).error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('renders unknown routes as 404 NOT_FOUND', async () => {
    expect((await errorAt('/v1/missing')).answer).toEqual([404, 'NOT_FOUND'])
  })

  it('renders a missing service token as 401 INVALID_TOKEN with WWW-Authenticate', async () => {
    const { answer, headers } = await errorAt('/v1/private')
    expect(answer).toEqual([401, 'INVALID_TOKEN'])
    expect(headers.get('www-authenticate')).toStartWith('Bearer')
  })

  it('renders 403 and 409 from the helpers with their details', async () => {
    expect((await app.handle(req('/v1/nope'))).status).toBe(403)
    const response = await app.handle(req('/v1/taken'))
    expect(response.status).toBe(409)
    expect(await bodyOf(response)).toEqual({
      error: { code: 'CONFLICT', message: 'already there', details: { id: 'x' } },
    })
  })

  it('renders 429 with a Retry-After header in whole seconds', async () => {
    const { answer, headers } = await errorAt('/v1/limited')
    expect(answer).toEqual([429, 'RATE_LIMITED'])
    expect(headers.get('retry-after')).toBe('3')
  })

  it('renders a contract violation as 422 CONTRACT_VIOLATION listing each problem with its path', async () => {
    const response = await app.handle(req('/v1/event'))
    expect(response.status).toBe(422)
    const { error } = await bodyOf(response)
    expect(error.code).toBe('CONTRACT_VIOLATION')
    const problems = error.details as { path: string; message: string }[]
    expect(problems.length).toBeGreaterThan(1)
    for (const problem of problems) expect(problem.path).toStartWith('/')
  })

  it('renders unknown errors as 500 INTERNAL without their message, and logs them with the request id', async () => {
    const response = await app.handle(req('/v1/boom', { headers: { 'x-request-id': 'boom-1' } }))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    expect(JSON.parse(text).error.code).toBe('INTERNAL')
    const logged = lines.find((l) => l.requestId === 'boom-1' && l.level === 'error')
    expect(logged?.err).toMatchObject({ message: 'database password is hunter2' })
  })

  it('renders Redis unreachable or timing out as 503 DEPENDENCY_UNAVAILABLE with Retry-After, never 500', async () => {
    for (const path of ['/v1/redis-offline', '/v1/redis-timeout']) {
      const response = await app.handle(req(path))
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
      expect((await bodyOf(response)).error).toEqual({
        code: 'DEPENDENCY_UNAVAILABLE',
        message: 'redis is unavailable, retry shortly',
        details: { dependency: 'redis' },
      })
    }
  })

  it('accepts a valid token and a valid body (the guards are not refusing everything)', async () => {
    const token = await createServiceTokenSigner(ring, 'audit').sign({ audience: 'test' })
    const ok = await app.handle(req('/v1/private', { headers: { authorization: `Bearer ${token}` } }))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ kind: 'service', service: 'audit' })
    const created = await app.handle(req('/v1/things', jsonInit({ name: 'a', count: 1 })))
    expect(created.status).toBe(200)
  })
})
