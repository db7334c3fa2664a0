/**
 * Swagger UI behind the real gateway: `/<service>/swagger` loads every asset under the prefix (relative URLs),
 * the document names the prefix as its server (`X-Forwarded-Prefix`), and "Try it out" calls go through the
 * gateway, in headless Chromium with no network beyond it. The app is the real audit service started by the
 * runner on a free port, which also answers on IPv6 (`[::1]`): the runner listens on `::`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditService } from '@flotilla/audit'
import { SERVICE_NAMES, type ServiceName } from '@flotilla/contracts'
import { startService } from '@flotilla/service-kit'
import { openOfflinePage } from '@flotilla/service-kit/testing'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { uniqueStreamName } from '@flotilla/streams/testing'
import { type Browser, chromium } from 'playwright-core'
import { cleanupRun, isolatedEnv } from './lib/isolation.ts'
import { type Gateway, startGateway } from './lib/nginx.ts'

const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const run = uniqueStreamName('swagger-gateway')
const dataDir = mkdtempSync(join(tmpdir(), 'swagger-gateway-'))
const startAudit = () =>
  startService(auditService, {
    env: { REDIS_URL, ...isolatedEnv(run), DATA_DIR: join(dataDir, 'audit'), LOG_LEVEL: 'silent' },
    port: 0,
    telemetry: false,
  })
let audit: Awaited<ReturnType<typeof startAudit>> | undefined
let standIn: ReturnType<typeof Bun.serve> | undefined
let gateway: Gateway | undefined
let browser: Browser | undefined

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('Chromium is required for this test (install it or set CHROMIUM_PATH)')
  audit = await startAudit()
  // The other services are not under test: one stand-in answers for them.
  standIn = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('stand-in', { status: 404 }),
  })
  const upstreams = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      name === 'audit' ? `http://127.0.0.1:${audit?.port}` : `http://127.0.0.1:${standIn?.port}`,
    ]),
  ) as Record<ServiceName, string>
  gateway = await startGateway(upstreams)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
  await standIn?.stop(true)
  await audit?.close()
  const redis = createRedisConnection(REDIS_URL, 'command')
  await cleanupRun(redis, run)
  await closeConnection(redis)
  rmSync(dataDir, { recursive: true, force: true })
})

describe('Swagger UI through the gateway', () => {
  it('serves the document with the gateway prefix as its server, and "/" without the gateway', async () => {
    const through = (await (await fetch(`${gateway?.url}/audit/swagger/json`)).json()) as { servers: unknown }
    expect(through.servers).toEqual([{ url: '/audit', description: 'this service, through the gateway' }])
    const direct = (await (await fetch(`http://127.0.0.1:${audit?.port}/swagger/json`)).json()) as {
      servers: unknown
    }
    expect(direct.servers).toEqual([{ url: '/', description: 'this service' }])
  })

  it('sends /audit/swagger/ (trailing slash, where relative URLs would miss) to /audit/swagger', async () => {
    const response = await fetch(`${gateway?.url}/audit/swagger/`)
    expect(response.status).toBe(200)
    expect(response.url).toBe(`${gateway?.url}/audit/swagger`)
  })

  it('renders /audit/swagger, and "Try it out" calls the route under /audit', async () => {
    const origin = gateway?.url ?? ''
    const { context, page, external, failed } = await openOfflinePage(browser!, origin)
    const requested: string[] = []
    page.on('request', (request) => requested.push(new URL(request.url()).pathname))
    await page.goto(`${origin}/audit/swagger`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 })
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.textContent ?? ''))
    expect(paths.some((p) => p.includes('/v1/audit/events'))).toBe(true)
    expect(await page.$$eval('.servers select option', (nodes) => nodes.map((n) => n.textContent))).toEqual([
      '/audit - this service, through the gateway',
    ])

    // Expand GET /health, "Try it out", "Execute": the request goes to /audit/health and answers 200.
    const health = page.locator('.opblock-get', {
      has: page.locator('.opblock-summary-path', { hasText: /^\/health$/ }),
    })
    await health.locator('.opblock-summary').click()
    await health.locator('button.try-out__btn').click()
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/audit/health')
    await health.locator('button.execute').click()
    expect((await answered).status()).toBe(200)
    const requestUrl = await health.locator('.request-url pre').textContent({ timeout: 15_000 })
    expect(requestUrl).toBe(`${origin}/audit/health`)

    // Every request the page made stayed under the prefix.
    expect(requested.filter((path) => !path.startsWith('/audit/') && path !== '/favicon.ico')).toEqual([])
    expect(external).toEqual([])
    expect(failed).toEqual([])
    await context.close()
  }, 60_000)

  it('reaches the app on IPv6 loopback as well as IPv4 (the runner listens on "::")', async () => {
    for (const host of ['127.0.0.1', '[::1]']) {
      const response = await fetch(`http://${host}:${audit?.port}/health`)
      expect(response.status).toBe(200)
    }
  })
})
