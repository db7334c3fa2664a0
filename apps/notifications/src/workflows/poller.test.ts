import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
beforeEach(async () => {
  t = await createTestApp()
})
afterEach(async () => {
  await t.close()
})

const delayed = (i: number, delaySeconds = 60) =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId: `u-due-${i}`, email: `due${i}@example.com` },
      template: 'welcome',
      data: { name: 'Lin' },
      delaySeconds,
    },
    { source: 'monolith' },
  )

describe('the due-time poller', () => {
  it('sends nothing before its time, then each due delivery exactly once while three pollers run at once', async () => {
    const events = Array.from({ length: 20 }, (_, i) => delayed(i))
    for (const event of events) await t.handle(event)
    // A redelivered event changes nothing: still one scheduled delivery each.
    await t.handle(events[0] ?? delayed(0), { deliveryCount: 2 })
    expect(await t.core.poller.run()).toBe(0)
    expect(await t.core.outbox.count()).toBe(0)
    const later = Date.now() + 120_000
    await Promise.all([t.core.poller.run(later), t.core.poller.run(later), t.core.poller.run(later)])
    expect(await t.core.outbox.count()).toBe(20)
    expect(await t.core.deliveries.countByStatus()).toEqual({ sent: 20 })
    expect(await t.published('notification.sent')).toHaveLength(20)
  })

  it('retries a poller-driven delivery later, not at once, and gives up after the last attempt', async () => {
    let calls = 0
    const { TransportError } = await import('../channels/types.ts')
    await t.close()
    t = await createTestApp({
      settings: { maxDeliveries: 2 },
      transportOverrides: {
        email: {
          channel: 'email',
          provider: 'flaky',
          idempotent: true,
          async send() {
            calls++
            throw new TransportError('transient', 'FLAKY_503', 'unavailable')
          },
        },
      },
    })
    await t.handle(delayed(1, 1))
    const [row] = (await t.core.deliveries.list({})).items
    const due = (row?.dueAt ?? 0) + 1
    await t.core.poller.run(due)
    const retried = await t.core.deliveries.get(row?.id ?? '')
    expect(retried).toMatchObject({ status: 'queued', attempts: 1 })
    expect(retried?.dueAt ?? 0).toBeGreaterThan(Date.now())
    // Not due yet: the next run leaves it alone.
    await t.core.poller.run(Date.now())
    expect(calls).toBe(1)
    await t.core.poller.run((retried?.dueAt ?? 0) + 1)
    expect(await t.core.deliveries.get(row?.id ?? '')).toMatchObject({ status: 'dead', attempts: 2 })
    expect(await t.published('notification.failed')).toHaveLength(1)
  })

  it('publishes an outcome event its run failed to publish on a later run, once, under the same id', async () => {
    await t.close()
    // Owed at once, so the test need not wait the default 30 s.
    t = await createTestApp({
      settings: { poller: { everyMs: 100, retryBaseMs: 50, retryMaxMs: 500, owedAfterMs: 0 } },
    })
    await t.handle(delayed(7))
    const later = Date.now() + 120_000
    const { publish } = t.core.events
    t.core.events.publish = async () => {
      throw new Error('the stream is unavailable')
    }
    await expect(t.core.poller.run(later)).rejects.toThrow('the stream is unavailable')
    t.core.events.publish = publish
    // Sent, its event owed: no stream entry will come back for it.
    const [row] = (await t.core.deliveries.list({})).items
    expect(row).toMatchObject({ status: 'sent', publishedStatus: null })
    expect(await t.published('notification.sent')).toHaveLength(0)
    expect(await t.core.poller.run(later)).toBe(1)
    const sent = await t.published('notification.sent')
    expect(sent.map((e) => e.payload.notificationId)).toEqual([row?.id ?? ''])
    expect(await t.core.deliveries.get(row?.id ?? '')).toMatchObject({ publishedStatus: 'sent' })
    // Nothing owed any more, nothing sent again.
    expect(await t.core.poller.run(later)).toBe(0)
    expect(await t.published('notification.sent')).toHaveLength(1)
    expect(await t.core.outbox.count()).toBe(1)
  })

  it('publishes the failure of a replayed delivery that failed again, when that publish failed too', async () => {
    const { TransportError } = await import('../channels/types.ts')
    await t.close()
    t = await createTestApp({
      settings: {
        maxDeliveries: 1,
        poller: { everyMs: 100, retryBaseMs: 50, retryMaxMs: 500, owedAfterMs: 0 },
      },
      transportOverrides: {
        email: {
          channel: 'email',
          provider: 'refusing',
          idempotent: true,
          async send() {
            throw new TransportError('transient', 'DOWN_503', 'unavailable')
          },
        },
      },
    })
    const event = delayed(3, 1)
    await t.handle(event)
    const [row] = (await t.core.deliveries.list({})).items
    const id = row?.id ?? ''
    const due = (row?.dueAt ?? 0) + 1
    await t.core.poller.run(due)
    expect(await t.core.deliveries.get(id)).toMatchObject({ status: 'dead', publishedStatus: 'failed:1' })
    // The operator replays the dead letter: the delivery is queued again for the poller.
    await t.handle(event, { replay: true })
    expect(await t.core.deliveries.get(id)).toMatchObject({ status: 'queued' })
    // It fails again, and this time its event cannot be published.
    const { publish } = t.core.events
    t.core.events.publish = async () => {
      throw new Error('the stream is unavailable')
    }
    await expect(t.core.poller.run(Date.now() + 120_000)).rejects.toThrow('the stream is unavailable')
    t.core.events.publish = publish
    expect(await t.core.deliveries.get(id)).toMatchObject({ status: 'dead', attempts: 2 })
    // A later run owes it: the second failure goes out once, under its own id.
    expect(await t.core.poller.run(Date.now() + 120_000)).toBe(1)
    const failed = await t.published('notification.failed')
    expect(failed.map((e) => e.payload.attempts)).toEqual([1, 2])
    expect(await t.core.deliveries.get(id)).toMatchObject({ publishedStatus: 'failed:2' })
    expect(await t.core.poller.run(Date.now() + 120_000)).toBe(0)
    expect(await t.published('notification.failed')).toHaveLength(2)
  })

  it('closes a digest window once while three pollers run at once, and cancels an open member by its key', async () => {
    const signIn = (device: string, idempotencyKey?: string) =>
      createEvent(
        'notification.requested',
        {
          recipient: { userId: 'u-burst', email: 'burst@example.com' },
          template: 'new-sign-in',
          data: { at: '2026-12-03T10:00:00Z', deviceName: device },
          ...(idempotencyKey ? { idempotencyKey } : {}),
        },
        { source: 'monolith' },
      )
    for (const device of ['a', 'b', 'c']) await t.handle(signIn(device))
    await t.handle(signIn('d', 'sign-in-d'))
    expect((await t.core.cancel('sign-in-d')).cancelled).toHaveLength(1)
    const later = Date.now() + 11 * 60_000
    await Promise.all([t.core.poller.run(later), t.core.poller.run(later), t.core.poller.run(later)])
    expect(await t.core.outbox.count()).toBe(1)
    const [mail] = (await t.core.outbox.list({})).items
    expect(mail?.subject).toBe('3 new sign-ins to your Flotilla account')
    expect(await t.core.deliveries.countByStatus()).toEqual({ digested: 3, cancelled: 1, sent: 1 })
  })
})
