/**
 * The workflow features end to end through the service the runner starts: events published on the stream, state
 * read over HTTP (`/v1/notifications`, `/v1/outbox`) and from the events the service publishes, short windows
 * set by the environment.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { type RunningNotifications, startNotifications } from './fixtures.ts'

let service: RunningNotifications | undefined
afterEach(async () => {
  await service?.close()
  service = undefined
})

const email = (user: string) => `${user}@example.com`
const reset = (user: string, extra: Record<string, unknown> = {}) => ({
  recipient: { userId: user, email: email(user) },
  template: 'password-reset',
  data: { resetUrl: `https://app.example.com/reset/${user}`, expiresInMinutes: 30 },
  ...extra,
})

describe('provider failover', () => {
  it('hands an email to the second provider when the first is down (a dead port), which sends it exactly once', async () => {
    // A local Resend, closed: its port refuses connections.
    const dead = startFakeResend()
    const { url, apiKey } = dead
    await dead.close()
    const s = await startNotifications({
      RESEND_API_KEY: apiKey,
      RESEND_BASE_URL: url,
      NOTIFICATIONS_EMAIL_PROVIDERS: 'resend,outbox',
    })
    service = s
    const requestId = await s.request(reset('u-failover'))
    const [delivery] = await s.until(async () => {
      const rows = await s.deliveries('u-failover')
      return rows[0]?.status === 'sent' ? rows : undefined
    }, 'the delivery sent')
    expect(delivery).toMatchObject({ provider: 'outbox', failedOver: true, requestId })
    const { attemptLog } = await s.detail(delivery?.id ?? '')
    expect(attemptLog.map((a) => [a.provider, a.outcome, a.error?.code ?? null])).toEqual([
      ['resend', 'failover', 'PROVIDER_UNREACHABLE'],
      ['outbox', 'sent', null],
    ])
    expect(await s.outbox(email('u-failover'))).toHaveLength(1)
    const sent = await s.until(async () => {
      const events = await s.published('notification.sent')
      return events.length > 0 ? events : undefined
    }, 'notification.sent')
    expect(sent.map((e) => e.payload.provider)).toEqual(['outbox'])
    // Nothing more arrives later (a redelivery of the event sends nothing).
    await s.request(reset('u-failover-2'))
    await s.until(
      async () => (await s.deliveries('u-failover-2'))[0]?.status === 'sent',
      'a second request sent',
    )
    expect(await s.outbox(email('u-failover'))).toHaveLength(1)
    expect(await s.published('notification.sent')).toHaveLength(2)
  }, 60_000)
})

describe('throttle', () => {
  it('marks the request past the limit throttled (visible and counted), sends the others, and lets a critical one through', async () => {
    const s = await startNotifications({
      NOTIFICATIONS_THROTTLE: 'promo=2/3600',
      NOTIFICATIONS_CONCURRENCY: '1',
    })
    service = s
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push(await s.request(reset('u-throttle', { category: 'promo' })))
    ids.push(await s.request(reset('u-throttle', { category: 'promo', critical: true })))
    const rows = await s.until(async () => {
      const found = await s.deliveries('u-throttle')
      return found.length === 4 && found.every((d) => d.status !== 'queued' && d.status !== 'sending')
        ? found
        : undefined
    }, 'four deliveries settled')
    const statusOf = (id: string | undefined) => rows.find((d) => d.requestId === id)?.status
    expect(ids.map(statusOf)).toEqual(['sent', 'sent', 'throttled', 'sent'])
    expect(rows.find((d) => d.requestId === ids[2])?.error?.code).toBe('THROTTLED')
    expect(await s.outbox(email('u-throttle'))).toHaveLength(3)
    const listed = await s.call('GET', '/v1/notifications?status=throttled')
    expect((listed.body as { items: { requestId: string }[] }).items.map((d) => d.requestId)).toEqual([
      ids[2] ?? 'missing',
    ])
    const metrics = await (
      await s.running.app.handle(new Request('http://notifications.test/metrics'))
    ).text()
    expect(metrics).toMatch(/notification_workflow_total\{channel="email",status="throttled"[^}]*\} 1\n/)
  }, 60_000)
})
