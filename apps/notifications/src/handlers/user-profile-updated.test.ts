import { afterAll, afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent, type PayloadOf } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { createTestApp, describeEachEngine, REDIS_URL, type TestApp } from '../testing.ts'
import { type RunningNotifications, startNotifications } from '../workflows/fixtures.ts'
import { localTimeOf as localTime } from '../workflows/quiet-hours.ts'

const profileUpdated = (payload: PayloadOf<'user.profile.updated'>, occurredAt?: Date) =>
  createEvent('user.profile.updated', payload, {
    source: 'monolith',
    ...(occurredAt ? { occurredAt } : {}),
  })

describe('user.profile.updated through the runner', () => {
  let s: RunningNotifications | undefined
  const producer = createRedisConnection(REDIS_URL, 'producer')
  afterEach(async () => {
    await s?.close()
    s = undefined
  })
  afterAll(() => producer.disconnect())

  it('sets the time zone and quiet hours read by GET settings, then holds a message until the window ends and sends it once', async () => {
    s = await startNotifications({ NOTIFICATIONS_DUE_POLL_MS: '100' })
    const running = s
    const publisher = createPublisher({ redis: producer, stream: running.stream })
    const zone = 'America/Sao_Paulo'
    const now = Date.now()
    const quietHours = { start: localTime(now - 2000, zone), end: localTime(now + 6000, zone) }
    await publisher.publish(profileUpdated({ userId: 'u-profile', timezone: zone, quietHours }))
    const settings = await running.until(async () => {
      const { body } = await running.call('GET', '/v1/users/u-profile/settings')
      return (body as { quietHours: unknown }).quietHours ? body : undefined
    }, 'the settings from the event')
    expect(settings).toEqual({ userId: 'u-profile', timezone: zone, quietHours })

    const requestId = await running.request({
      recipient: { userId: 'u-profile', email: 'u-profile@example.com' },
      template: 'password-reset',
      data: { resetUrl: 'https://app.example.com/reset/1', expiresInMinutes: 30 },
    })
    const held = await running.until(async () => {
      const [row] = await running.deliveries('u-profile')
      return row?.status === 'held' ? row : undefined
    }, 'the message held')
    expect(held.requestId).toBe(requestId)
    const dueAt = Date.parse(held.dueAt ?? '')
    expect(localTime(dueAt, zone)).toBe(quietHours.end)
    const sent = await running.until(async () => {
      const [row] = await running.deliveries('u-profile')
      return row?.status === 'sent' ? row : undefined
    }, 'the held message sent when the quiet hours end')
    expect(Date.parse(sent.sentAt ?? '')).toBeGreaterThanOrEqual(dueAt)
    expect(await running.outbox('u-profile@example.com')).toHaveLength(1)
  }, 60_000)

  it('dead-letters an event naming a time zone that does not exist, with the reason', async () => {
    s = await startNotifications()
    const running = s
    const publisher = createPublisher({ redis: producer, stream: running.stream })
    await publisher.publish(profileUpdated({ userId: 'u-mars', timezone: 'Mars/Olympus' }))
    const letters = await running.until(async () => {
      const { body } = await running.call('GET', '/v1/dead-letters')
      const items = (body as { items: { error: { code: string; message: string } }[] }).items
      return items.length > 0 ? items : undefined
    }, 'a dead letter')
    expect(letters.map((l) => l.error.code)).toEqual(['INVALID_SETTINGS'])
    expect(letters[0]?.error.message).toContain('Mars/Olympus')
    expect((await running.call('GET', '/v1/users/u-mars/settings')).body).toEqual({
      userId: 'u-mars',
      timezone: null,
      quietHours: null,
    })
  }, 60_000)
})

describeEachEngine((engine) => {
  describe('user.profile.updated ordering', () => {
    let t: TestApp
    beforeEach(async () => {
      t = await createTestApp({ engine })
    })
    afterEach(async () => {
      await t.close()
    })
    const settingsOf = async (userId: string) => (await t.get(`/v1/users/${userId}/settings`)).json()
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs)

    it('keeps the newer setting when an older event arrives after it, and changes nothing on a redelivery', async () => {
      const newer = profileUpdated(
        { userId: 'u-order', timezone: 'Asia/Tokyo', quietHours: { start: '23:00', end: '06:00' } },
        at(-1000),
      )
      const older = profileUpdated(
        { userId: 'u-order', timezone: 'Europe/Paris', quietHours: { start: '21:00', end: '08:00' } },
        at(-60_000),
      )
      await t.handle(newer)
      await t.handle(older)
      await t.handle(newer, { deliveryCount: 2 })
      expect(await settingsOf('u-order')).toEqual({
        userId: 'u-order',
        timezone: 'Asia/Tokyo',
        quietHours: { start: '23:00', end: '06:00' },
      })
    })

    it('orders each field on its own: an older event still sets a field no newer one set', async () => {
      await t.handle(
        profileUpdated({ userId: 'u-fields', quietHours: { start: '22:00', end: '07:00' } }, at(-1000)),
      )
      await t.handle(profileUpdated({ userId: 'u-fields', timezone: 'Europe/Berlin' }, at(-5000)))
      // Older than the quiet hours above: ignored for them, though it is the newest time zone.
      await t.handle(
        profileUpdated({ userId: 'u-fields', timezone: 'Europe/Berlin', quietHours: null }, at(-3000)),
      )
      expect(await settingsOf('u-fields')).toEqual({
        userId: 'u-fields',
        timezone: 'Europe/Berlin',
        quietHours: { start: '22:00', end: '07:00' },
      })
      // A newer event clears them.
      await t.handle(profileUpdated({ userId: 'u-fields', quietHours: null }, at(0)))
      expect((await settingsOf('u-fields')).quietHours).toBeNull()
    })

    it('never lets a late event undo a setting made through the API after it, nor a late user.registered', async () => {
      const event = profileUpdated({ userId: 'u-api', timezone: 'Asia/Tokyo' }, at(-10_000))
      const put = await t.request('PUT', '/v1/users/u-api/settings', {
        body: { timezone: 'America/Chicago', quietHours: { start: '22:00', end: '07:00' } },
      })
      expect(put.status).toBe(200)
      await t.handle(event)
      await t.handle(
        createEvent(
          'user.registered',
          {
            userId: 'u-api',
            email: 'u-api@example.com',
            timezone: 'Europe/Paris',
            quietHours: { start: '20:00', end: '09:00' },
          },
          { source: 'monolith', occurredAt: at(-20_000) },
        ),
      )
      expect(await settingsOf('u-api')).toEqual({
        userId: 'u-api',
        timezone: 'America/Chicago',
        quietHours: { start: '22:00', end: '07:00' },
      })
      // The registration's address is still taken: only its settings were older.
      expect((await t.core.contacts.get('u-api'))?.email).toBe('u-api@example.com')
      // A profile change made after the API call applies.
      await t.handle(profileUpdated({ userId: 'u-api', timezone: 'Asia/Tokyo' }, at(1000)))
      expect((await settingsOf('u-api')).timezone).toBe('Asia/Tokyo')
    })
  })
})
