import { describe, expect, it } from 'bun:test'
import { createEvent, type PayloadOf } from '@flotilla/contracts'
import { useFixture } from '@flotilla/service-kit/testing'
import { NonRetryableError, RetryLaterError } from '@flotilla/streams'
import { createTestApp } from '../testing.ts'

const t = useFixture(() => createTestApp())

const registered = (userId: string, extra: Record<string, string> = {}) =>
  createEvent('user.registered', { userId, email: `${userId}@example.com`, ...extra }, { source: 'monolith' })
const deviceAdded = (userId: string) =>
  createEvent(
    'auth.device.added',
    { userId, deviceId: 'd1', name: 'Pixel 9', ip: '203.0.113.7' },
    { source: 'auth' },
  )
const refreshReused = (userId: string) =>
  createEvent(
    'auth.refresh.reused',
    { userId, familyId: 'f1', sessionId: 's1', ip: '198.51.100.2' },
    { source: 'auth' },
  )
const outbox = async (channel?: 'email' | 'sms' | 'push') =>
  (await t.core.outbox.list({ limit: 100, ...(channel ? { channel } : {}) })).items

describe('rules', () => {
  it('sends the welcome email to the address of user.registered and remembers the contact', async () => {
    const event = registered('u-welcome', { name: 'Ada' })
    await t.handle(event)
    const [mail] = await outbox('email')
    expect(mail?.recipient).toBe('u-welcome@example.com')
    expect(mail?.subject).toBe('Welcome to Flotilla')
    expect(mail?.html).toContain('Hello Ada')
    expect((await t.core.contacts.get('u-welcome'))?.email).toBe('u-welcome@example.com')
    const [sent] = await t.published('notification.sent')
    expect(sent?.causationId).toBe(event.id)
    expect(sent?.payload).toMatchObject({
      userId: 'u-welcome',
      channel: 'email',
      template: 'welcome',
      provider: 'outbox',
    })
  })

  it('carries the triggering event’s correlation id and trace context into notification.sent', async () => {
    const traceparent = `00-${'a1'.repeat(16)}-${'b2'.repeat(8)}-01`
    const event = createEvent(
      'user.registered',
      { userId: 'u-traced', email: 'traced@example.com' },
      { source: 'monolith', correlationId: 'signup-42', traceparent, tenantId: 't-1' },
    )
    await t.handle(event)
    const [sent] = await t.published('notification.sent')
    expect(sent).toMatchObject({
      correlationId: 'signup-42',
      causationId: event.id,
      traceparent,
      tenantId: 't-1',
    })
  })

  it('sends the new-sign-in email of auth.device.added to the address from the directory, once its digest window closes', async () => {
    await t.handle(registered('u-device'))
    await t.handle(deviceAdded('u-device'))
    // new-sign-in is collected for 10 minutes; a window with one sign-in sends the plain message.
    const [collected] = (await t.core.deliveries.list({ userId: 'u-device' })).items
    expect(collected?.status).toBe('digested')
    await t.core.poller.run(Date.now() + 11 * 60_000)
    const mails = await outbox('email')
    const signIn = mails.find((m) => m.subject?.startsWith('New sign-in'))
    expect(signIn?.recipient).toBe('u-device@example.com')
    expect(signIn?.body).toContain('Device: Pixel 9')
  })

  it('takes a new user’s time zone and quiet hours from user.registered into the directory', async () => {
    const quietHours = { start: '22:00', end: '07:00' }
    await t.handle(
      createEvent(
        'user.registered',
        { userId: 'u-quiet-reg', email: 'u-quiet-reg@example.com', timezone: 'Europe/Paris', quietHours },
        { source: 'monolith' },
      ),
    )
    const res = await t.request('GET', '/v1/users/u-quiet-reg/settings')
    expect(await res.json()).toEqual({ userId: 'u-quiet-reg', timezone: 'Europe/Paris', quietHours })
    // A later event without them keeps them.
    await t.handle(registered('u-quiet-reg'))
    expect((await t.core.contacts.get('u-quiet-reg'))?.quietStart).toBe('22:00')
  })

  it('records a failed delivery with NO_ADDRESS when no address is known, without retrying', async () => {
    const event = deviceAdded('u-nobody')
    await t.handle(event) // resolves: nothing to retry
    const { items } = await t.core.deliveries.list({ userId: 'u-nobody' })
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({ status: 'failed', errorCode: 'NO_ADDRESS', recipient: 'user:u-nobody' })
    const [failed] = await t.published('notification.failed')
    expect(failed?.payload.error.code).toBe('NO_ADDRESS')
    expect(await outbox()).toHaveLength(0)
  })

  it('sends the critical security alert by email, and by SMS when a phone is known', async () => {
    await t.handle(registered('u-phone', { phone: '+33612345678' }))
    await t.handle(registered('u-nophone'))
    await t.handle(refreshReused('u-phone'))
    await t.handle(refreshReused('u-nophone'))
    const sms = await outbox('sms')
    expect(sms.map((m) => m.recipient)).toEqual(['+33612345678'])
    expect(sms[0]?.body).toContain('security alert')
    const alerts = (await outbox('email')).filter((m) => m.subject?.startsWith('Security alert'))
    expect(alerts.map((m) => m.recipient).sort()).toEqual(['u-nophone@example.com', 'u-phone@example.com'])
  })

  it('ignores event types it has no rule for', async () => {
    await t.handle(createEvent('user.deleted', { userId: 'u-x' }, { source: 'monolith' }))
    expect((await t.core.deliveries.list({})).items).toHaveLength(0)
  })
})

describe('delivery guarantees', () => {
  it('sends once when the same event is handled again (redelivery, duplicate append, replay)', async () => {
    const event = registered('u-once')
    await t.handle(event)
    await t.handle(event, { deliveryCount: 2 })
    await t.handle(event, { deliveryCount: 1, replay: true })
    expect(await outbox('email')).toHaveLength(1)
    expect(await t.published('notification.sent')).toHaveLength(1)
  })

  it('sends once when two copies of an event are handled at the same time', async () => {
    const event = registered('u-race')
    const results = await Promise.allSettled([t.handle(event), t.handle(event), t.handle(event)])
    // Copies that found the delivery leased are told to come back later; none sends.
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true)
    expect(await outbox('email')).toHaveLength(1)
  })
})

describe('many handlers at once', () => {
  it('never loses or duplicates a delivery while 40 events, each appended twice, and preference writes run together', async () => {
    const requested = (i: number) =>
      createEvent(
        'notification.requested',
        {
          recipient: { userId: `u-many-${i}`, email: `many${i}@example.com` },
          template: 'password-reset',
          data: { resetUrl: `https://app.example.com/reset/${i}`, expiresInMinutes: 30 },
        },
        { source: 'monolith' },
      )
    // Connected first, as under the consumer: the publisher adds listeners per publish while it waits for a
    // connection's first ready, and 80 at once would trip Node's listener-count warning.
    await t.redis.ping()
    const events = Array.from({ length: 40 }, (_, i) => requested(i))
    const copies = events.flatMap((event) => [event, event])
    const optOuts = Array.from({ length: 10 }, (_, i) =>
      t.core.preferences.replace(`u-other-${i}`, [{ category: 'marketing', channel: 'email' }]),
    )
    const results = await Promise.allSettled([...copies.map((event) => t.handle(event)), ...optOuts])
    // A copy that found its twin holding the delivery is told to come back; the stream would redeliver it.
    const retried = copies.filter((_, i) => results[i]?.status === 'rejected')
    for (const [i, result] of results.entries())
      if (result.status === 'rejected')
        expect(i < copies.length && result.reason instanceof RetryLaterError).toBe(true)
    await Promise.all(retried.map((event) => t.handle(event, { deliveryCount: 2 })))

    const rows = (await t.core.deliveries.list({ limit: 100 })).items
    expect(rows.map((r) => r.eventId).sort()).toEqual(events.map((e) => e.id).sort())
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true)
    for (const row of rows)
      expect((await t.core.deliveries.attempts(row.id)).map((a) => a.outcome)).toEqual(['sent'])
    const sentTo = (await outbox('email')).map((m) => m.recipient).sort()
    expect(sentTo).toEqual(events.map((_, i) => `many${i}@example.com`).sort())
    const published = await t.published('notification.sent')
    expect(published.map((e) => e.payload.requestId).sort()).toEqual(events.map((e) => e.id).sort())
    expect(await t.core.preferences.optOuts('u-other-9')).toEqual([
      { category: 'marketing', channel: 'email' },
    ])
  })
})

describe('preferences', () => {
  it('suppresses an opted-out category on a channel, and lets a critical alert through anyway', async () => {
    await t.handle(registered('u-optout', { phone: '+33600000001' }))
    const put = await t.request('PUT', '/v1/users/u-optout/preferences', {
      body: {
        optOuts: [
          { category: 'security', channel: 'email' },
          { category: 'security', channel: 'sms' },
        ],
      },
    })
    expect(put.status).toBe(200)
    await t.handle(deviceAdded('u-optout'))
    await t.handle(refreshReused('u-optout'))
    const { items } = await t.core.deliveries.list({ userId: 'u-optout' })
    const signIn = items.find((d) => d.template === 'new-sign-in')
    expect(signIn?.status).toBe('suppressed')
    const alerts = items.filter((d) => d.template === 'security-alert')
    expect(alerts.map((d) => [d.channel, d.status]).sort()).toEqual([
      ['email', 'sent'],
      ['sms', 'sent'],
    ])
    const subjects = (await outbox('email')).map((m) => m.subject)
    expect(subjects.some((s) => s?.startsWith('New sign-in'))).toBe(false)
  })
})

describe('templates in the pipeline', () => {
  it('renders the French version for fr-CA and the default locale for a language it lacks', async () => {
    await t.handle(registered('u-fr', { locale: 'fr-CA' }))
    await t.handle(registered('u-de', { locale: 'de-DE' }))
    const mails = await outbox('email')
    expect(mails.find((m) => m.recipient === 'u-fr@example.com')?.subject).toBe('Bienvenue sur Flotilla')
    expect(mails.find((m) => m.recipient === 'u-de@example.com')?.subject).toBe('Welcome to Flotilla')
    const { items } = await t.core.deliveries.list({})
    expect(items.map((d) => d.locale).sort()).toEqual(['en', 'fr'])
  })

  /** Handles the request, which must be refused for good with `code`: dead letter at once, the delivery recorded dead, nothing sent. */
  const expectRefusedForGood = async (payload: PayloadOf<'notification.requested'>, code: string) => {
    const error = await t
      .handle(createEvent('notification.requested', payload, { source: 'monolith' }))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as NonRetryableError).code).toBe(code)
    const { items } = await t.core.deliveries.list({ userId: payload.recipient.userId })
    expect(items[0]).toMatchObject({ status: 'dead', errorCode: code })
    expect(await outbox()).toHaveLength(0)
    return error as NonRetryableError
  }

  it('dead-letters a request whose data misses a declared variable, naming it, and records the delivery dead', async () => {
    const error = await expectRefusedForGood(
      {
        recipient: { userId: 'u-reset', email: 'reset@example.com' },
        template: 'password-reset',
        data: { expiresInMinutes: 30 },
      },
      'TEMPLATE_DATA_INVALID',
    )
    expect(error.message).toContain('"resetUrl"')
  })

  it('dead-letters a request whose data sets a system variable (app), sending nothing', async () => {
    await expectRefusedForGood(
      {
        recipient: { userId: 'u-phish', email: 'phish@example.com' },
        template: 'welcome',
        data: { name: 'Grace', app: { name: 'EVIL Corp', url: 'https://evil.example/phish' } },
      },
      'TEMPLATE_DATA_RESERVED',
    )
  })

  it('dead-letters a request for an unknown template', async () => {
    const event = createEvent(
      'notification.requested',
      { recipient: { userId: 'u-x', email: 'x@example.com' }, template: 'no-such-template' },
      { source: 'monolith' },
    )
    const error = await t.handle(event).catch((e: unknown) => e)
    expect((error as NonRetryableError).code).toBe('UNKNOWN_TEMPLATE')
  })

  it('escapes an XSS payload in the HTML part and keeps the plain-text part literal', async () => {
    const payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    const event = createEvent(
      'notification.requested',
      {
        recipient: { userId: 'u-xss', email: 'xss@example.com' },
        template: 'password-reset',
        data: { resetUrl: 'https://app.test/r" onmouseover="alert(3)', expiresInMinutes: 15, name: payload },
      },
      { source: 'monolith' },
    )
    await t.handle(event)
    const [mail] = await outbox('email')
    expect(mail?.html).not.toContain('<script>')
    expect(mail?.html).not.toContain('<img')
    expect(mail?.html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;')
    expect(mail?.html).toContain('&lt;img src=x onerror=&#34;alert(1)&#34;&gt;')
    // An attribute value cannot be closed from the data either.
    expect(mail?.html).toContain('href="https://app.test/r&#34; onmouseover=&#34;alert(3)"')
    expect(mail?.body).toContain(payload)
  })

  it('sends to the channels and push subscriptions a request names', async () => {
    const event = createEvent(
      'notification.requested',
      {
        recipient: {
          userId: 'u-multi',
          phone: '+447700900123',
          pushSubscriptions: [
            { endpoint: 'https://push.example.com/a', keys: { p256dh: 'k', auth: 'a' } },
            { endpoint: 'https://push.example.com/b', keys: { p256dh: 'k', auth: 'a' } },
          ],
        },
        template: 'welcome',
        channels: ['sms', 'push'],
        data: { name: 'Grace' },
      },
      { source: 'monolith' },
    )
    await t.handle(event)
    expect((await outbox('sms')).map((m) => m.body)).toEqual(['Welcome to Flotilla, Grace!'])
    expect((await outbox('push')).map((m) => m.recipient).sort()).toEqual([
      'https://push.example.com/a',
      'https://push.example.com/b',
    ])
  })
})
