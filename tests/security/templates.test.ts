/**
 * Phishing through templates: event data that sets a system variable (`app.name`, `app.url`, …) must never
 * reach a genuine message. A preview answers 422 `TEMPLATE_DATA_RESERVED`; a `notification.requested` on the
 * stream is dead-lettered with that code and nothing is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createNotificationConsumer } from '@flotilla/notifications'
import { createTestApp, REDIS_URL, type TestApp } from '@flotilla/notifications/testing'
import { createPublisher } from '@flotilla/streams'
import { waitFor } from '@flotilla/streams/testing'

const EVIL_APP = { name: 'EVIL Corp', url: 'https://evil.example/phish' }
// Every name the service injects or keeps for itself, and what an attacker would put there.
const SYSTEM_DATA: Record<string, unknown>[] = [
  { app: EVIL_APP },
  { app: { name: 'EVIL Corp' } },
  { recipient: { locale: 'en', timezone: 'UTC' } },
  { links: { home: EVIL_APP.url } },
  { unsubscribe: EVIL_APP.url },
]

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('template preview', () => {
  it('answers 422 TEMPLATE_DATA_RESERVED for system variables in data, on every template', async () => {
    const list = (await (await t.request('GET', '/v1/templates')).json()) as { items: { name: string }[] }
    expect(list.items.length).toBeGreaterThan(0)
    const wrong: string[] = []
    for (const { name } of list.items) {
      for (const extra of SYSTEM_DATA) {
        const response = await t.request('POST', `/v1/templates/${name}/preview`, {
          body: { data: { name: 'Grace', ...extra } },
        })
        const text = await response.text()
        const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code
        if (response.status !== 422 || code !== 'TEMPLATE_DATA_RESERVED' || text.includes('EVIL'))
          wrong.push(`${name} ${JSON.stringify(extra)}: ${response.status} ${text.slice(0, 100)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('still renders the service’s own name and URL for clean data (control)', async () => {
    const response = await t.request('POST', '/v1/templates/welcome/preview', {
      body: { channels: ['email'], data: { name: 'Grace' } },
    })
    expect(response.status).toBe(200)
    const { messages } = (await response.json()) as { messages: { subject: string }[] }
    expect(messages[0]?.subject).toBe(`Welcome to ${t.core.settings.app.name}`)
  })
})

describe('notification.requested on the stream', () => {
  it('is dead-lettered with TEMPLATE_DATA_RESERVED when its data sets app, and nothing is sent', async () => {
    const consumer = createNotificationConsumer({
      redisUrl: REDIS_URL,
      stream: t.stream,
      handlerDeps: t.core.handlerDeps,
      blockMs: 100,
    })
    await consumer.start()
    try {
      const event = createEvent(
        'notification.requested',
        {
          recipient: { userId: 'u_phish', email: 'victim@example.com' },
          template: 'welcome',
          data: { name: 'Grace', app: EVIL_APP },
        },
        { source: 'monolith' },
      )
      await createPublisher({ redis: t.redis, stream: t.stream }).publish(event)
      const letter = await waitFor(
        async () => {
          const page = (await (await t.request('GET', '/v1/dead-letters')).json()) as {
            items: { event: string; error: { code: string; message: string } }[]
          }
          return page.items.find((l) => l.event.includes(event.id))
        },
        { timeoutMs: 15_000, message: 'the dead letter' },
      )
      expect(letter.error.code).toBe('TEMPLATE_DATA_RESERVED')
      expect(letter.error.message).toContain('"app"')
      expect((await t.core.outbox.list({})).items).toEqual([])
    } finally {
      await consumer.close()
    }
  }, 20_000)
})
