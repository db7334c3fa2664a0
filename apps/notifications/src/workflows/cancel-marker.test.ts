import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent, type EventOf, type EventType } from '@flotilla/contracts'
import { TransportError } from '../channels/types.ts'
import { type Database, openDatabase } from '../db/client.ts'
import { MARK_CANCELLED, requestLocks } from '../deliveries/cancel-marker.ts'
import { INSERT, insertArgs } from '../deliveries/rows.ts'
import type { NewDelivery } from '../deliveries/store.ts'
import { handleEvents } from '../handlers/index.ts'
import { createTestApp, describeEachEngine, newDeliveryOf, type TestApp } from '../testing.ts'

/** A password reset to email and SMS; `delaySeconds` makes both wait for the poller. */
const resetBoth = (userId: string, idempotencyKey: string, delaySeconds?: number) =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId, email: `${userId}@example.com`, phone: '+15550100200' },
      template: 'password-reset',
      channels: ['email', 'sms'],
      data: { resetUrl: 'https://app.example.com/reset/1', expiresInMinutes: 30 },
      idempotencyKey,
      ...(delaySeconds === undefined ? {} : { delaySeconds }),
    },
    { source: 'monolith' },
  )
type Requested = ReturnType<typeof resetBoth>

const consumed = (event: Requested, deliveryCount: number) => ({
  event: event as EventOf<EventType>,
  context: { deliveryCount, replay: false },
})

describeEachEngine((engine) => {
  describe('a cancel stops what its request records afterwards', () => {
    let t: TestApp
    beforeEach(async () => {
      t = await createTestApp({ engine })
    })
    afterEach(async () => {
      await t.close()
    })

    /** Runs `before` just before the dispatcher records the request's SMS delivery (after its email one). */
    const beforeSms = (before: (d: NewDelivery) => Promise<void>) => {
      const insert = t.core.deliveries.insert
      t.core.deliveries.insert = async (d) => {
        if (d.channel === 'sms') await before(d)
        return insert(d)
      }
      return () => {
        t.core.deliveries.insert = insert
      }
    }
    const statuses = async (userId: string) =>
      Object.fromEntries((await t.core.deliveries.list({ userId })).items.map((r) => [r.channel, r.status]))
    const workflowCount = async (channel: string, status: string) => {
      const text = await (await t.app.handle(new Request('http://notifications.test/metrics'))).text()
      const line = new RegExp(
        `notification_workflow_total\\{channel="${channel}",status="${status}"[^}]*\\} (\\d+)`,
      )
      return Number(text.match(line)?.[1] ?? 0)
    }

    it('records a channel recorded after the cancel as cancelled, and the poller never sends it', async () => {
      const event = resetBoth('u-between', 'order-7:reset', 3600)
      const answers: { cancelled: number; statuses: string[] }[] = []
      // Email recorded, then the cancel, then the SMS.
      beforeSms(async () => {
        const { cancelled, all } = await t.core.cancel('order-7:reset')
        answers.push({ cancelled: cancelled.length, statuses: all.map((r) => r.status) })
      })
      await t.handle(event)
      expect(answers).toEqual([{ cancelled: 1, statuses: ['cancelled'] }])
      expect(await statuses('u-between')).toEqual({ email: 'cancelled', sms: 'cancelled' })
      // Past the delay: nothing is due, nothing goes out.
      await t.core.poller.run(Date.now() + 7_200_000)
      expect(await t.core.outbox.count()).toBe(0)
      expect(await t.core.deliveries.countByStatus()).toEqual({ cancelled: 2 })
      // Counted like the cancel's own.
      expect(await workflowCount('sms', 'cancelled')).toBe(1)
      expect(await workflowCount('email', 'cancelled')).toBe(1)
    })

    for (const path of ['per-event', 'batched'] as const)
      it(`records nothing that could be sent when a cancelled request is redelivered (${path})`, async () => {
        const event = resetBoth('u-redelivered', 'order-8:reset', 3600)
        // The first delivery dies between its channels: the email is recorded, the SMS not.
        const restore = beforeSms(async () => {
          throw new Error('the process died')
        })
        await expect(t.handle(event)).rejects.toThrow('the process died')
        restore()
        expect((await t.core.cancel('order-8:reset')).cancelled).toHaveLength(1)
        if (path === 'per-event') await t.handle(event, { deliveryCount: 2 })
        else {
          // With a request of another user in the batch, recorded as usual.
          const other = resetBoth('u-other', 'order-9:reset', 3600)
          const errors = await handleEvents(t.core.handlerDeps, [consumed(event, 2), consumed(other, 1)])
          expect(errors).toEqual([undefined, undefined])
          expect(await statuses('u-other')).toEqual({ email: 'scheduled', sms: 'scheduled' })
        }
        expect(await statuses('u-redelivered')).toEqual({ email: 'cancelled', sms: 'cancelled' })
        expect(await workflowCount('sms', 'cancelled')).toBe(1)
        await t.core.poller.run(Date.now() + 7_200_000)
        expect(
          (await t.core.deliveries.list({ userId: 'u-redelivered' })).items.map((r) => r.sentAt),
        ).toEqual([null, null])
      })

    it('does not send, in the batch that records and sends in one transaction, a channel of a request cancelled before', async () => {
      const event = resetBoth('u-folded', 'order-10:reset')
      const restore = beforeSms(async () => {
        throw new Error('the process died')
      })
      await expect(t.handle(event)).rejects.toThrow('the process died')
      restore()
      // The email went out at once: nothing left to cancel (409), yet the request is marked cancelled.
      const answer = await t.core.cancel('order-10:reset')
      expect(answer.cancelled).toHaveLength(0)
      expect(answer.all.map((r) => r.status)).toEqual(['sent'])
      const other = resetBoth('u-folded-other', 'order-11:reset')
      const errors = await handleEvents(t.core.handlerDeps, [consumed(event, 2), consumed(other, 1)])
      expect(errors).toEqual([undefined, undefined])
      expect(await statuses('u-folded')).toEqual({ email: 'sent', sms: 'cancelled' })
      expect(await statuses('u-folded-other')).toEqual({ email: 'sent', sms: 'sent' })
      // The first email and the other request's two messages; never the cancelled SMS.
      expect(await t.core.outbox.count()).toBe(3)
      expect(await workflowCount('sms', 'cancelled')).toBe(1)
    })

    it('cancels, rather than revives, the dead delivery of a cancelled request that an operator replays', async () => {
      // The email provider refuses the first message for good, then accepts.
      let calls = 0
      await t.close()
      t = await createTestApp({
        engine,
        transportOverrides: {
          email: {
            channel: 'email',
            provider: 'refusing-once',
            idempotent: true,
            async send() {
              if (++calls === 1) throw new TransportError('permanent', 'REJECTED', 'refused')
              return { providerMessageId: `m-${calls}` }
            },
          },
        },
      })
      const event = resetBoth('u-replayed', 'order-13:reset')
      await t.handle(event).catch(() => {})
      expect(await statuses('u-replayed')).toEqual({ email: 'dead', sms: 'sent' })
      // Nothing left to cancel (409), yet the request is marked cancelled.
      expect((await t.core.cancel('order-13:reset')).cancelled).toHaveLength(0)
      await t.handle(event, { replay: true })
      expect(await statuses('u-replayed')).toEqual({ email: 'cancelled', sms: 'sent' })
      await t.core.poller.run(Date.now() + 120_000)
      expect(calls).toBe(1)
      expect(await workflowCount('email', 'cancelled')).toBe(1)
    })

    it('remembers nothing for a key never requested: 404, and the request sent later goes out', async () => {
      const unknown = await t.request('POST', '/v1/notifications/cancel', {
        body: { idempotencyKey: 'order-12:reset' },
      })
      expect(unknown.status).toBe(404)
      await t.handle(resetBoth('u-late', 'order-12:reset'))
      expect(await statuses('u-late')).toEqual({ email: 'sent', sms: 'sent' })
    })
  })
})

describe('on postgresql, a cancel and a recording of one request on two replicas', () => {
  let t: TestApp
  let other: Database
  beforeEach(async () => {
    t = await createTestApp({ engine: 'postgresql' })
    other = await openDatabase({ url: t.dbUrl })
  })
  afterEach(async () => {
    other.close()
    await t.close()
  })

  /** Whether a statement of this schema waits for a request lock (read on the other replica's pool). */
  const someoneWaits = async () => {
    const { rows } = await other.client.execute(`SELECT count(*) AS n FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted AND classid = hashtext(current_schema())::oid`)
    return Number(rows[0]?.n) > 0
  }
  /** Resolves true once `pending` waits for a lock, false when it finished without waiting. */
  const waitsForLock = async (pending: Promise<unknown>) => {
    let done = false
    void pending.then(
      () => (done = true),
      () => (done = true),
    )
    for (;;) {
      if (done) return false
      if (await someoneWaits()) return true
    }
  }
  const delivery = (channel: 'email' | 'sms', key: string): NewDelivery => {
    const event = resetBoth('u-replicas', key, 3600)
    const to = channel === 'email' ? 'u-replicas@example.com' : '+15550100200'
    return newDeliveryOf(`${event.id}:${channel}`, {
      eventId: event.id,
      eventType: event.type,
      channel,
      recipient: to,
      address: to,
      userId: 'u-replicas',
      content: '{}',
      status: 'scheduled',
      dueAt: Date.now() + 3_600_000,
      requestKey: key,
    })
  }

  // Each path that records: one delivery, a batch, a batch recorded and sent in one transaction.
  const recorders: Record<string, (d: NewDelivery) => Promise<unknown>> = {
    'per-event': (d) => t.core.deliveries.insert(d),
    batched: (d) => t.core.batchStore.insertMany([d]),
    'recorded and sent': (d) =>
      t.core.service.recordAndDeliver(
        [{ delivery: { ...d, status: 'queued', dueAt: null }, lastDelivery: false }],
        async () => {},
      ),
  }
  for (const [path, record] of Object.entries(recorders))
    it(`records a delivery that waited for a cancel in progress as cancelled (${path})`, async () => {
      const key = `replicas-1-${path}`
      await t.core.deliveries.insert(delivery('email', key))
      const sms = delivery('sms', key)
      // The other replica's cancel, held open after its update and marker.
      const cancel = await other.client.transaction('write')
      await cancel.batch([
        ...requestLocks(true, [key]),
        { sql: MARK_CANCELLED, args: [key, Date.now(), key] },
      ])
      const recording = record(sms)
      const waited = await waitsForLock(recording)
      await cancel.commit()
      await recording
      const status = (await t.core.deliveries.get(sms.id))?.status
      expect({ waited, status }).toEqual({ waited: true, status: 'cancelled' })
      expect(await t.core.outbox.count()).toBe(0)
    })

  it('cancels a delivery whose recording was in progress when the cancel came', async () => {
    await t.core.deliveries.insert(delivery('email', 'replicas-2'))
    const sms = delivery('sms', 'replicas-2')
    // The other replica records the SMS, its transaction still open.
    const recording = await other.client.transaction('write')
    await recording.batch([
      ...requestLocks(true, ['replicas-2']),
      { sql: INSERT, args: insertArgs(sms, Date.now()) },
    ])
    const cancelling = t.core.cancel('replicas-2')
    const waited = await waitsForLock(cancelling)
    await recording.commit()
    const { cancelled, all } = await cancelling
    expect({ waited, cancelled: cancelled.length, all: all.map((r) => r.status) }).toEqual({
      waited: true,
      cancelled: 2,
      all: ['cancelled', 'cancelled'],
    })
  })
})
