/**
 * The workflow features end to end through the service the runner starts: events published on the stream, state
 * read over HTTP (`/v1/notifications`, `/v1/outbox`) and from the events the service publishes, short windows
 * set by the environment.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { type RunningNotifications, startNotifications } from './fixtures.ts'
import { localTimeOf as localTime } from './quiet-hours.ts'

let service: RunningNotifications | undefined
/** Starts the service for one test (closed after it). */
const start = async (env: Record<string, string> = {}) => {
  service = await startNotifications(env)
  return service
}
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
    const s = await start({
      RESEND_API_KEY: apiKey,
      RESEND_BASE_URL: url,
      NOTIFICATIONS_EMAIL_PROVIDERS: 'resend,outbox',
    })
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
    const sent = await s.publishedAtLeast('notification.sent', 1)
    expect(sent.map((e) => e.payload.provider)).toEqual(['outbox'])
    // Nothing more arrives later (a redelivery of the event sends nothing).
    await s.request(reset('u-failover-2'))
    await s.until(
      async () => (await s.deliveries('u-failover-2'))[0]?.status === 'sent',
      'a second request sent',
    )
    expect(await s.outbox(email('u-failover'))).toHaveLength(1)
    expect(await s.publishedAtLeast('notification.sent', 2)).toHaveLength(2)
  }, 60_000)
})

describe('throttle', () => {
  it('marks the request past the limit throttled (visible and counted), sends the others, and lets a critical one through', async () => {
    const s = await start({
      NOTIFICATIONS_THROTTLE: 'promo=2/3600',
      NOTIFICATIONS_CONCURRENCY: '1',
    })
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

describe('delay, schedule and cancel', () => {
  it('sends a delayed request after its delay and not before (across a restart), and never one cancelled by its key', async () => {
    const s = await start({ NOTIFICATIONS_DUE_POLL_MS: '100' })
    const delayed = await s.request(reset('u-delayed', { delaySeconds: 3 }))
    await s.request(reset('u-cancelled', { delaySeconds: 3, idempotencyKey: 'order-42:reminder' }))
    const scheduled = await s.until(async () => {
      const [a] = await s.deliveries('u-delayed')
      const [b] = await s.deliveries('u-cancelled')
      return a?.status === 'scheduled' && b?.status === 'scheduled' ? { a, b } : undefined
    }, 'both scheduled')
    expect(scheduled.a.idempotencyKey).toBe(delayed)
    expect(scheduled.b.idempotencyKey).toBe('order-42:reminder')
    const dueAt = Date.parse(scheduled.a.dueAt ?? '')
    const published = Date.parse(scheduled.a.createdAt)
    expect(dueAt - published).toBeGreaterThan(2000)
    // Not before: while the time has not come, nothing is in the outbox.
    if (Date.now() < dueAt - 200) expect(await s.outbox(email('u-delayed'))).toHaveLength(0)

    const cancel = await s.call('POST', '/v1/notifications/cancel', { idempotencyKey: 'order-42:reminder' })
    expect(cancel.status).toBe(200)
    expect(cancel.body).toMatchObject({ cancelled: 1, deliveries: [{ status: 'cancelled' }] })
    // The service restarts while the delayed one waits: it is kept, and sent once its time comes.
    await s.restart()

    const [sent] = await s.until(async () => {
      const rows = await s.deliveries('u-delayed')
      return rows[0]?.status === 'sent' ? rows : undefined
    }, 'the delayed one sent')
    expect(Date.parse(sent?.sentAt ?? '')).toBeGreaterThanOrEqual(dueAt)
    expect(await s.outbox(email('u-delayed'))).toHaveLength(1)
    // The cancelled one was due at the same time: it stays cancelled and nothing went out.
    expect((await s.deliveries('u-cancelled'))[0]?.status).toBe('cancelled')
    expect(await s.outbox(email('u-cancelled'))).toHaveLength(0)
    expect((await s.publishedAtLeast('notification.sent', 1)).map((e) => e.payload.userId)).toEqual([
      'u-delayed',
    ])

    const again = await s.call('POST', '/v1/notifications/cancel', { idempotencyKey: delayed })
    expect(again.status).toBe(409)
    expect((again.body as { error: { code: string } }).error.code).toBe('NOT_CANCELLABLE')
    const unknown = await s.call('POST', '/v1/notifications/cancel', { idempotencyKey: 'no-such-key' })
    expect(unknown.status).toBe(404)
  }, 60_000)
})

describe('quiet hours', () => {
  it('holds a message during the recipient’s quiet hours and sends it once when they end; a critical one goes at once', async () => {
    const s = await start({ NOTIFICATIONS_DUE_POLL_MS: '100' })
    const zone = 'Asia/Tokyo'
    const now = Date.now()
    const quietHours = { start: localTime(now - 2000, zone), end: localTime(now + 8000, zone) }
    const put = await s.call('PUT', '/v1/users/u-quiet/settings', { timezone: zone, quietHours })
    expect(put).toEqual({ status: 200, body: { userId: 'u-quiet', timezone: zone, quietHours } })
    const held = await s.request(reset('u-quiet'))
    const critical = await s.request(reset('u-quiet', { critical: true }))
    const rows = await s.until(async () => {
      const found = await s.deliveries('u-quiet')
      const byId = (id: string) => found.find((d) => d.requestId === id)
      return byId(held)?.status === 'held' && byId(critical)?.status === 'sent' ? found : undefined
    }, 'one held, the critical one sent')
    const heldRow = rows.find((d) => d.requestId === held)
    const dueAt = Date.parse(heldRow?.dueAt ?? '')
    expect(localTime(dueAt, zone)).toBe(quietHours.end)
    if (Date.now() < dueAt - 200) expect(await s.outbox(email('u-quiet'))).toHaveLength(1)
    const sent = await s.until(async () => {
      const row = (await s.deliveries('u-quiet')).find((d) => d.requestId === held)
      return row?.status === 'sent' ? row : undefined
    }, 'the held one sent when the quiet hours end')
    expect(Date.parse(sent.sentAt ?? '')).toBeGreaterThanOrEqual(dueAt)
    expect(await s.outbox(email('u-quiet'))).toHaveLength(2)
    expect(await s.publishedAtLeast('notification.sent', 2)).toHaveLength(2)

    const bad = await s.call('PUT', '/v1/users/u-other/settings', { quietHours })
    expect(bad.status).toBe(422)
    expect((bad.body as { error: { code: string } }).error.code).toBe('INVALID_SETTINGS')
    const badZone = await s.call('PUT', '/v1/users/u-other/settings', {
      timezone: 'Mars/Olympus',
      quietHours: null,
    })
    expect((badZone.body as { error: { code: string } }).error.code).toBe('INVALID_SETTINGS')
  }, 60_000)
})

describe('digest', () => {
  it('collects 3 sign-ins in one window (across a restart inside it) into one message listing 3, sent once', async () => {
    const s = await start({
      NOTIFICATIONS_DUE_POLL_MS: '100',
      NOTIFICATIONS_DIGEST_WINDOW_MS: '8000',
    })
    const signIn = (device: string) => ({
      recipient: { userId: 'u-digest', email: email('u-digest') },
      template: 'new-sign-in',
      data: { at: new Date().toISOString(), deviceName: device },
    })
    const collected = (n: number) =>
      s.until(async () => {
        const rows = await s.deliveries('u-digest')
        return rows.length === n && rows.every((d) => d.status === 'digested') ? rows : undefined
      }, `${n} sign-ins collected`)
    await s.request(signIn('Pixel 9'))
    await s.request(signIn('iPad'))
    const [firstTwo] = [await collected(2)]
    const windowEnd = firstTwo[0]?.dueAt
    // A restart inside the window loses nothing.
    await s.restart()
    await s.request(signIn('ThinkPad'))
    const three = await collected(3)
    expect(new Set(three.map((d) => d.dueAt))).toEqual(new Set([windowEnd ?? 'missing']))
    expect(await s.outbox(email('u-digest'))).toHaveLength(0)

    const members = await s.until(async () => {
      const rows = (await s.deliveries('u-digest')).filter((d) => d.status === 'digested')
      return rows.length === 3 && rows.every((d) => d.digestId) ? rows : undefined
    }, 'the window closed')
    const digestId = members[0]?.digestId ?? ''
    expect(members.every((d) => d.digestId === digestId)).toBe(true)
    const digest = await s.until(async () => {
      const row = await s.detail(digestId)
      return row.status === 'sent' ? row : undefined
    }, 'the digest sent')
    expect(digest.template).toBe('new-sign-in-digest')
    const mails = await s.outbox(email('u-digest'))
    expect(mails).toHaveLength(1)
    expect(mails[0]?.subject).toBe('3 new sign-ins to your Flotilla account')
    for (const device of ['Pixel 9', 'iPad', 'ThinkPad']) expect(mails[0]?.body).toContain(device)
    // The event follows the status (published right after the send is recorded).
    const sent = await s.publishedAtLeast('notification.sent', 1)
    expect(sent.map((e) => e.payload.notificationId)).toEqual([digestId])
    // A sign-in after the window opens a new one.
    await s.request(signIn('Kindle'))
    const next = await s.until(async () => {
      const rows = await s.deliveries('u-digest')
      const open = rows.find((d) => d.status === 'digested' && !d.digestId)
      return open
    }, 'a new window')
    expect(Date.parse(next.dueAt ?? '')).toBeGreaterThan(Date.parse(windowEnd ?? ''))
  }, 60_000)
})
