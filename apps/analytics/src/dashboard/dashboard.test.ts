import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deadLetterStreamKey } from '@flotilla/contracts'
import { waitFor } from '@flotilla/streams/testing'
import { sql } from 'drizzle-orm'
import { chromium } from 'playwright-core'
import { createTestApp, sampleEvent, type TestApp } from '../testing.ts'

const CHROMIUM = '/usr/bin/chromium'
// Each run saves its screenshot outside the tree; UPDATE_SCREENSHOT=1 refreshes the committed one in docs/.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? join(import.meta.dir, '..', '..', 'docs', 'dashboard.png')
  : join(tmpdir(), `flotilla-dashboard-${process.pid}.png`)
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let h: TestApp
let base: string
beforeAll(async () => {
  h = await createTestApp({ env: { ANALYTICS_CONSUMER_BATCH_SIZE: '500' } })
  h.app.listen({ port: 0, hostname: '127.0.0.1' })
  base = `http://127.0.0.1:${h.app.server?.port}`
})
afterAll(async () => {
  await h.app.stop()
  await h.close()
})

const TYPES = [
  ['page.viewed', 9],
  ['search.performed', 5],
  ['order.placed', 3],
  ['cart.abandoned', 2],
  ['order.paid', 2],
  ['invoice.sent', 1],
] as const

/** A seeded PRNG (mulberry32): the same traffic every run, without the regularity of a counter. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}

/** Nearly a day of plausible traffic ending now: a daily wave with noise, types drawn by weight. */
const traffic = (now: number) => {
  const rand = random(42)
  const weights = TYPES.reduce((n, [, w]) => n + w, 0)
  const pick = () => {
    let r = rand() * weights
    for (const [type, w] of TYPES) {
      r -= w
      if (r < 0) return type
    }
    return TYPES[0][0]
  }
  const events = []
  // 23 hours back: the "last 24 hours" chart starts at the top of the hour 23 hours ago.
  for (let minute = 23 * 60 - 5; minute >= 0; minute--) {
    const at = now - minute * 60_000
    // Busiest two hours ago, quietest half a day earlier.
    const wave = 1 + 0.75 * Math.cos(((minute / 60 - 2) / 24) * 2 * Math.PI)
    const perMinute = Math.round(5.5 * wave * (0.7 + rand() * 0.6))
    for (let k = 0; k < perMinute; k++) {
      const type = pick()
      events.push(
        sampleEvent(type, new Date(at - Math.floor(rand() * 59_000)), {
          tenantId: `tenant-${Math.floor(rand() * 4)}`,
          source: rand() < 0.2 ? 'shop' : 'monolith',
          actor: `user-${Math.floor(rand() ** 2 * 1500)}`,
          payload: type === 'order.placed' ? { durationMs: Math.round(30 + rand() ** 3 * 400) } : {},
        }),
      )
    }
  }
  return events
}

describe('GET /dashboard', () => {
  it('serves uPlot and the page script itself, with no CDN', async () => {
    const html = await (await h.get('/dashboard')).text()
    expect(html).toContain('/dashboard/assets/uPlot.iife.min.js')
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/)
    const js = await h.get('/dashboard/assets/uPlot.iife.min.js')
    expect(js.headers.get('content-type')).toContain('javascript')
    expect(await js.text()).toContain('uPlot')
    expect((await h.get('/dashboard/assets/uPlot.min.css')).status).toBe(200)
    expect((await h.get('/dashboard/assets/nope.js')).status).toBe(404)
  })

  it('draws charts from the events it consumed, in headless Chromium', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install -y chromium)`)
    // The other services' groups, so pipeline health shows all four; one dead letter for notifications.
    for (const group of ['auth', 'notifications', 'audit'])
      await h.redis.xgroup('CREATE', h.stream, group, '$', 'MKSTREAM')
    await h.redis.xadd(
      deadLetterStreamKey(h.stream, 'notifications'),
      '*',
      'type',
      'notification.requested',
      'error',
      'template missing',
    )
    const events = traffic(Date.now())
    await h.publish(events)
    await h.deps.consumer.start()
    await waitFor(
      async () =>
        Number(
          (await h.deps.database.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM processed_events`))[0]
            ?.n,
        ) === events.length,
      {
        timeoutMs: 30_000,
        message: 'the consumer to count every event',
      },
    )
    await h.deps.rollups.rollupDirty()
    await h.deps.scheduler.tick()

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, deviceScaleFactor: 1 })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${base}/dashboard?refresh=1000`)
      const lastHour = events.filter((e) => Date.parse(e.occurredAt) >= Date.now() - 59 * 60_000).length
      await page.waitForFunction(
        (min) =>
          Number(document.querySelector('[data-chart="lastHour"]')?.getAttribute('data-total') ?? 0) >= min,
        lastHour,
        { timeout: 20_000 },
      )
      await page.waitForFunction(
        () => Number(document.querySelector('[data-chart="uniques"]')?.getAttribute('data-total') ?? 0) > 0,
      )
      const dayTotal = Number(await page.getAttribute('[data-chart="lastDay"]', 'data-total'))
      expect(dayTotal).toBe(events.length)
      expect(await page.locator('.uplot canvas').count()).toBeGreaterThanOrEqual(3)
      expect(await page.textContent('tr[data-group="notifications"]')).toContain('dead-letters')
      expect(await page.textContent('tr[data-group="analytics"]')).toContain('ok')
      expect(Number((await page.textContent('#k-day'))?.replaceAll(',', ''))).toBe(events.length)
      expect(errors).toEqual([])
      await page.screenshot({ path: SCREENSHOT, fullPage: true })
      console.log(`dashboard screenshot: ${SCREENSHOT}`)
    } finally {
      await browser.close()
    }
  }, 90_000)

  it('asks for a token when the dashboard data is not public', async () => {
    const closed = await createTestApp({ env: { ANALYTICS_DASHBOARD_PUBLIC: 'false' } })
    try {
      expect((await closed.get('/dashboard')).status).toBe(200)
      expect((await closed.get('/dashboard/data')).status).toBe(401)
      expect((await closed.get('/dashboard/data', await closed.serviceToken())).status).toBe(200)
      const user = await closed.userToken({ tenantId: 'acme' })
      const scoped = (await (await closed.get('/dashboard/data', user)).json()) as { tenantId: string }
      expect(scoped.tenantId).toBe('acme')
      expect((await closed.get('/dashboard/data?tenantId=globex', user)).status).toBe(404)
    } finally {
      await closed.close()
    }
  })
})
