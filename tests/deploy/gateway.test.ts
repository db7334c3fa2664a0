import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceName } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { uniqueStreamName } from '@flotilla/streams/testing'
import { defaultPorts, renderServicesConf, SERVICES_CONF } from '../../docker/gateway/render.ts'
import { APPS } from '../../scripts/lib/apps.ts'
import { cleanupRun } from './lib/isolation.ts'
import { freePort, type Gateway, startGateway } from './lib/nginx.ts'
import { type RunningApp, runApp } from './lib/run-app.ts'

/** What a stand-in app saw of one request. */
interface Seen {
  app: string
  path: string
  requestId: string | null
  prefix: string | null
  traceparent: string | null
  bodyBytes: number
}

const standIns: ReturnType<typeof Bun.serve>[] = []
/** Request ids of every request a stand-in received. */
const received: (string | null)[] = []
let gateway: Gateway

beforeAll(async () => {
  const upstreams = {} as Record<ServiceName, string>
  for (const app of APPS) {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (req) => {
        received.push(req.headers.get('x-request-id'))
        const url = new URL(req.url)
        const seen: Seen = {
          app: app.name,
          path: url.pathname + url.search,
          requestId: req.headers.get('x-request-id'),
          prefix: req.headers.get('x-forwarded-prefix'),
          traceparent: req.headers.get('traceparent'),
          bodyBytes: (await req.arrayBuffer()).byteLength,
        }
        return Response.json(seen)
      },
    })
    standIns.push(server)
    upstreams[app.name] = `http://127.0.0.1:${server.port}`
  }
  gateway = await startGateway(upstreams)
})

afterAll(async () => {
  await gateway?.stop()
  for (const s of standIns) await s.stop(true)
})

describe('nginx gateway (docker/gateway/nginx.conf)', () => {
  it('routes by the services.conf that `bun run generate` writes from the service list', () => {
    expect(readFileSync(SERVICES_CONF, 'utf8')).toBe(renderServicesConf(defaultPorts()))
  })

  it('redirects a bare service prefix to its trailing-slash form', async () => {
    const response = await fetch(`${gateway.url}/audit`, { redirect: 'manual' })
    expect(response.status).toBe(308)
    expect(response.headers.get('location')).toEndWith('/audit/')
  })

  it.each(APPS.map((a) => a.name))(
    'routes /%s/ to that app with the prefix stripped and the query kept',
    async (name) => {
      const response = await fetch(`${gateway.url}/${name}/v1/things?limit=2`)
      expect(response.status).toBe(200)
      const seen = (await response.json()) as Seen
      expect(seen.app).toBe(name)
      expect(seen.path).toBe('/v1/things?limit=2')
      expect(seen.prefix).toBe(`/${name}`)
    },
  )

  it("passes the caller's X-Request-Id and traceparent through, and returns the id", async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const response = await fetch(`${gateway.url}/audit/v1/records`, {
      headers: { 'x-request-id': 'req-from-monolith-1', traceparent },
    })
    const seen = (await response.json()) as Seen
    expect(seen.requestId).toBe('req-from-monolith-1')
    expect(seen.traceparent).toBe(traceparent)
    expect(response.headers.get('x-request-id')).toBe('req-from-monolith-1')
  })

  it('mints a request id when the caller sends none, and the app sees the one the caller gets back', async () => {
    const response = await fetch(`${gateway.url}/auth/health`)
    const seen = (await response.json()) as Seen
    expect(seen.requestId).toMatch(/^[0-9a-f]{32}$/)
    expect(response.headers.get('x-request-id')).toBe(seen.requestId)
  })

  it('refuses a body over 1 MiB with 413 and a JSON error, without reaching the app', async () => {
    const response = await fetch(`${gateway.url}/notifications/v1/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'big-1' },
      body: 'x'.repeat(1024 * 1024 + 1),
    })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(response.headers.get('x-request-id')).toBe('big-1')
    expect(received).not.toContain('big-1')
  })

  it('forwards a body under the limit whole', async () => {
    const body = 'y'.repeat(512 * 1024)
    const response = await fetch(`${gateway.url}/analytics/v1/ingest`, { method: 'POST', body })
    expect(response.status).toBe(200)
    expect(((await response.json()) as Seen).bodyBytes).toBe(body.length)
  })

  it('answers 404 in the error shape for a path no service owns', async () => {
    const response = await fetch(`${gateway.url}/billing/v1/x`)
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })

  it('answers 503 in the error shape when the app behind a path is down', async () => {
    const down = await startGateway({
      auth: `http://127.0.0.1:${freePort()}`,
      notifications: 'http://127.0.0.1:9',
      audit: 'http://127.0.0.1:9',
      analytics: 'http://127.0.0.1:9',
    })
    try {
      const response = await fetch(`${down.url}/auth/v1/sessions`)
      expect(response.status).toBe(503)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE')
    } finally {
      await down.stop()
    }
  })
})

describe('nginx gateway in front of the real apps', () => {
  const present = APPS
  const run = uniqueStreamName('gateway')
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-gateway-apps-'))
  const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'command')
  const running: RunningApp[] = []
  let front: Gateway

  beforeAll(async () => {
    const upstreams = {} as Record<ServiceName, string>
    for (const app of APPS) upstreams[app.name] = 'http://127.0.0.1:9'
    for (const app of present) {
      const started = await runApp(app, { run, dataDir: join(dataDir, app.name) })
      running.push(started)
      upstreams[app.name] = started.url
    }
    front = await startGateway(upstreams)
  }, 60_000)

  afterAll(async () => {
    await front?.stop()
    for (const app of running) {
      app.proc.kill('SIGTERM')
      await app.proc.exited
    }
    await cleanupRun(redis, run)
    await closeConnection(redis)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it.each(present.map((a) => a.name))(
    'serves %s health and OpenAPI JSON through the gateway',
    async (name) => {
      const health = await fetch(`${front.url}/${name}/health`, {
        headers: { 'x-request-id': `gw-${name}-1` },
      })
      expect(health.status).toBe(200)
      // One id, the caller's: the app saw it (it echoes it) and nginx does not add a second one.
      expect(health.headers.get('x-request-id')).toBe(`gw-${name}-1`)
      const spec = await fetch(`${front.url}/${name}/swagger/json`)
      expect(spec.status).toBe(200)
      expect(((await spec.json()) as { openapi?: string }).openapi).toBeDefined()
    },
  )
})
