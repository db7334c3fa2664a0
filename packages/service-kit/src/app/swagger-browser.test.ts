import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { Elysia, t } from 'elysia'
import { type Browser, chromium } from 'playwright-core'
import { createTestServiceApp } from '../test-fixtures.ts'
import { openOfflinePage } from '../testing.ts'

// `.ci/run` installs Debian's chromium; CHROMIUM_PATH points elsewhere when needed.
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)

describe('Swagger UI in a browser with no internet', () => {
  const { app } = createTestServiceApp({
    swagger: { title: 'Offline Widgets', description: 'served locally' },
  })
  app.use(
    new Elysia().get('/v1/widgets/:id', ({ params }) => params, {
      params: t.Object({ id: t.String() }),
      detail: { tags: ['widgets'], summary: 'One widget' },
    }),
  )
  let browser: Browser
  let origin = ''

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('Chromium is required for this test (install it or set CHROMIUM_PATH)')
    app.listen({ port: 0, hostname: '127.0.0.1' })
    origin = `http://127.0.0.1:${app.server?.port}`
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  })
  afterAll(async () => {
    await browser?.close()
    await app.stop(true)
  })

  it('renders the document and its operations, fetching nothing but the app', async () => {
    // Everything that is not the app fails, as it would with no network.
    const { context, page, external, failed } = await openOfflinePage(browser, origin)
    await page.goto(`${origin}/swagger`)
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 })
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Offline Widgets')
    await page.waitForSelector('.opblock-summary-path', { timeout: 15_000 })
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.textContent ?? ''))
    expect(paths.some((p) => p.includes('/v1/widgets/{id}'))).toBe(true)
    expect(paths.some((p) => p.includes('/health'))).toBe(true)
    expect(external).toEqual([])
    expect(failed).toEqual([])
    await context.close()
  })
})
