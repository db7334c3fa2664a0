import { afterEach, expect, it } from 'bun:test'
import { createEvent, type EventOf, type EventType } from '@flotilla/contracts'
import { NonRetryableError } from '@flotilla/streams'
import { waitFor } from '@flotilla/streams/testing'
import { type Transport, TransportError } from '../channels/types.ts'
import type { Db } from '../db/client.ts'
import { buildCore } from '../deps.ts'
import { derivedId } from '../ids.ts'
import { createOutboxTransport } from '../outbox/store.ts'
import {
  createTestApp,
  describeEachEngine,
  type Engine,
  type TestApp,
  type TestAppOptions,
} from '../testing.ts'
import { type ConsumedEvent, handleEvents } from './index.ts'

const reset = (userId: string, data: Record<string, unknown> = {}, template = 'password-reset') =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId, email: `${userId}@example.com` },
      template,
      data: { resetUrl: `https://app.test/r/${userId}`, expiresInMinutes: 10, ...data },
    },
    { source: 'monolith' },
  )
/** Handles `events` as one batch, as the consumer hands them over (each delivered `deliveryCount` times). */
const handleAll = (
  core: { handlerDeps: Parameters<typeof handleEvents>[0] },
  events: readonly ReturnType<typeof reset>[],
  deliveryCount = 1,
) =>
  handleEvents(
    core.handlerDeps,
    events.map((e) => consumed(e, deliveryCount)),
  )

const consumed = (event: ReturnType<typeof reset>, deliveryCount = 1): ConsumedEvent => ({
  event: event as EventOf<EventType>,
  context: { deliveryCount, replay: false },
})

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})
const app = async (
  engine: Engine,
  settings = {},
  options: Omit<TestAppOptions, 'engine' | 'settings'> = {},
) => {
  t = await createTestApp({ engine, settings, ...options })
  return t
}
/** The outbox as a provider apart from the delivery database (as Resend is): its send and the record commit apart. */
const outboxApart = (db: Db): Transport => {
  const { sendBatchWithin: _, ...apart } = createOutboxTransport(db, 'email')
  return apart
}

describeEachEngine((engine) => {
  it('handles a batch with a duplicated event once: one delivery, one outbox message, one notification.sent', async () => {
    const { core, published } = await app(engine)
    const [a, b] = [reset('u-a'), reset('u-b')]
    const errors = await handleEvents(core.handlerDeps, [consumed(a), consumed(b), consumed(a)])
    expect(errors).toEqual([undefined, undefined, undefined])
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 2 })
    expect(await core.outbox.count()).toBe(2)
    const sent = await published('notification.sent')
    expect(sent.map((e) => e.causationId).sort()).toEqual([a.id, b.id].sort())
    // Redelivered as a whole: nothing is sent or published again.
    expect(await handleEvents(core.handlerDeps, [consumed(a, 2), consumed(b, 2)])).toEqual([
      undefined,
      undefined,
    ])
    expect(await core.outbox.count()).toBe(2)
    expect(await published('notification.sent')).toHaveLength(2)
    const row = (await core.deliveries.list({ userId: 'u-a' })).items[0]
    expect(row).toMatchObject({ status: 'sent', attempts: 1, provider: 'outbox', publishedStatus: 'sent' })
    expect(await core.deliveries.attempts(row?.id ?? '')).toMatchObject([{ attempt: 1, outcome: 'sent' }])
  })

  it('fails a poison entry alone: an unknown template and bad data fail their events, the rest are sent', async () => {
    const { core, published } = await app(engine)
    const good = [reset('u-1'), reset('u-2')]
    const unknown = reset('u-unknown', {}, 'no-such-template')
    const bad = reset('u-bad', { expiresInMinutes: 'soon' })
    const errors = await handleEvents(core.handlerDeps, [
      consumed(good[0] as ReturnType<typeof reset>),
      consumed(unknown),
      consumed(bad),
      consumed(good[1] as ReturnType<typeof reset>),
    ])
    expect(errors[0]).toBeUndefined()
    expect(errors[3]).toBeUndefined()
    expect(errors[1]).toBeInstanceOf(NonRetryableError)
    expect((errors[1] as NonRetryableError).code).toBe('UNKNOWN_TEMPLATE')
    expect((errors[2] as NonRetryableError).code).toBe('TEMPLATE_DATA_INVALID')
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 2, dead: 1 })
    expect(await core.outbox.count()).toBe(2)
    expect(await published('notification.sent')).toHaveLength(2)
    expect((await published('notification.failed')).map((e) => e.payload.error.code)).toEqual([
      'TEMPLATE_DATA_INVALID',
    ])
  })

  it('never sends twice when a batch dies between the send and its record: the redelivery settles what was sent', async () => {
    // A short lease (provider timeout 100 ms → 1.2 s), so the redelivery may take the abandoned sends over.
    const { core, published } = await app(
      engine,
      { providerTimeoutMs: 100 },
      { transportOverrides: { email: outboxApart } },
    )
    const events = Array.from({ length: 20 }, (_, i) => reset(`u-crash-${i}`))
    const markSentMany = core.batchStore.markSentMany
    core.batchStore.markSentMany = async () => {
      throw new Error('the process died before recording the sends')
    }
    const first = await handleAll(core, events)
    expect(first.every((e) => e instanceof Error)).toBe(true)
    core.batchStore.markSentMany = markSentMany
    expect(await core.outbox.count()).toBe(20)
    expect(await core.deliveries.countByStatus()).toEqual({ sending: 20 })

    // Redelivered while the lease holds: told to come back, nothing sent.
    const busy = await handleAll(core, events, 2)
    expect(busy.every((e) => e instanceof Error)).toBe(true)
    await waitFor(async () => (await handleAll(core, events, 3)).every((e) => e === undefined), {
      timeoutMs: 10_000,
      message: 'the redelivery after the lease settles every delivery',
    })
    expect(await core.outbox.count()).toBe(20)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 20 })
    expect(await published('notification.sent')).toHaveLength(20)
    const row = (await core.deliveries.list({ userId: 'u-crash-0' })).items[0]
    expect((await core.deliveries.attempts(row?.id ?? '')).map((a) => a.outcome)).toEqual([
      'abandoned',
      'sent',
    ])
  })

  it('records a batch due now through the outbox in one transaction with its directory writes: a batch dying inside it leaves nothing, and the batch sends once', async () => {
    const { core, published } = await app(engine)
    const events = Array.from({ length: 20 }, (_, i) => reset(`u-one-${i}`))
    const insertAndSendMany = core.batchStore.insertAndSendMany
    core.batchStore.insertAndSendMany = (items, leaseUntil, before, send) =>
      insertAndSendMany(items, leaseUntil, before, async (tx, fresh) => {
        await send(tx, fresh) // the directory and the messages are written inside the transaction…
        throw new Error('the transaction failed before its commit')
      })
    const upsertMany = core.contacts.upsertMany
    let left: unknown
    core.contacts.upsertMany = async (inputs) => {
      // The path that claims starts here (the directory first): what the rolled-back transaction left.
      left = {
        contact: await core.contacts.get('u-one-0'),
        deliveries: await core.deliveries.countByStatus(),
        outbox: await core.outbox.count(),
        sent: (await published('notification.sent')).length,
      }
      return upsertMany(inputs)
    }
    const first = await handleAll(core, events)
    core.batchStore.insertAndSendMany = insertAndSendMany
    core.contacts.upsertMany = upsertMany
    // …and rolled back whole: no directory row, no delivery, no message, no event.
    expect(left).toEqual({ contact: undefined, deliveries: {}, outbox: 0, sent: 0 })
    // The batch went on through the path that claims, sending each once.
    expect(first).toEqual(events.map(() => undefined))
    expect(await core.outbox.count()).toBe(20)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 20 })
    expect(await published('notification.sent')).toHaveLength(20)

    // Redelivered: the one transaction finds every row recorded; nothing is sent or published again.
    expect(await handleAll(core, events, 2)).toEqual(events.map(() => undefined))
    expect(await core.outbox.count()).toBe(20)
    expect(await published('notification.sent')).toHaveLength(20)
  })

  it('records and sends a batch due now through the outbox in one transaction: each delivery sent with its attempt, the directory written, the event published', async () => {
    const { core, published } = await app(engine)
    const events = Array.from({ length: 5 }, (_, i) => reset(`u-fold-${i}`))
    const claimAndSendMany = core.batchStore.claimAndSendMany
    const insertMany = core.batchStore.insertMany
    let claimed = 0
    core.batchStore.claimAndSendMany = (...args) => {
      claimed++
      return claimAndSendMany(...args)
    }
    core.batchStore.insertMany = (...args) => {
      claimed++
      return insertMany(...args)
    }
    expect(await handleAll(core, events)).toEqual(events.map(() => undefined))
    core.batchStore.claimAndSendMany = claimAndSendMany
    core.batchStore.insertMany = insertMany
    expect(claimed).toBe(0)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 5 })
    expect(await published('notification.sent')).toHaveLength(5)
    await core.batchStore.flushMarkers() // the markers owed (see the next test)
    const row = (await core.deliveries.list({ userId: 'u-fold-0' })).items[0]
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      provider: 'outbox',
      publishedStatus: 'sent',
      leaseUntil: 0,
      dueAt: null,
    })
    expect(row?.sentAt).toBeNumber()
    const [message] = (await core.outbox.list({ recipient: 'u-fold-0@example.com' })).items
    expect(message?.id).toBe(row?.providerMessageId as string)
    expect(await core.deliveries.attempts(row?.id ?? '')).toMatchObject([
      { attempt: 1, outcome: 'sent', provider: 'outbox' },
    ])
    expect(await core.contacts.get('u-fold-0')).toMatchObject({ email: 'u-fold-0@example.com' })
  })

  it('decides again when the directory moved before the batch committed: quiet hours set meanwhile hold the message', async () => {
    const { core, published } = await app(engine)
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
    const now = Date.now()
    await core.contacts.upsert({ userId: 'u-moved', email: 'u-moved@example.com' })
    const expectMany = core.contacts.expectMany
    core.contacts.expectMany = async (inputs) => {
      const expected = await expectMany(inputs)
      // Another writer (the settings API) between the read and the batch's transaction.
      await core.contacts.setSettings('u-moved', {
        timezone: 'UTC',
        quietHours: { start: hhmm(now - 3_600_000), end: hhmm(now + 3_600_000) },
      })
      return expected
    }
    expect(await handleEvents(core.handlerDeps, [consumed(reset('u-moved'))])).toEqual([undefined])
    core.contacts.expectMany = expectMany
    expect(await core.deliveries.countByStatus()).toEqual({ held: 1 })
    expect(await core.outbox.count()).toBe(0)
    expect(await published('notification.sent')).toHaveLength(0)
  })

  it('takes the path that claims when a batch cannot be recorded in one transaction: a batch dying inside the claim leaves its deliveries queued, the redelivery sends once', async () => {
    const { core, published } = await app(engine)
    const events = Array.from({ length: 20 }, (_, i) => reset(`u-tx-${i}`))
    const insertAndSendMany = core.batchStore.insertAndSendMany
    core.batchStore.insertAndSendMany = async () => {
      throw new Error('the one-transaction path is unavailable')
    }
    const claimAndSendMany = core.batchStore.claimAndSendMany
    core.batchStore.claimAndSendMany = (items, leaseUntil, send) =>
      claimAndSendMany(items, leaseUntil, async (tx, taken) => {
        await send(tx, taken) // the messages are written inside the transaction…
        throw new Error('the process died before the transaction committed')
      })
    const first = await handleAll(core, events)
    expect(first.every((e) => e instanceof Error)).toBe(true)
    core.batchStore.claimAndSendMany = claimAndSendMany
    core.batchStore.insertAndSendMany = insertAndSendMany
    // …and rolled back with the claim: nothing stored, nothing taken, no attempt, no event.
    expect(await core.outbox.count()).toBe(0)
    expect(await core.deliveries.countByStatus()).toEqual({ queued: 20 })
    expect(await published('notification.sent')).toHaveLength(0)

    // The redelivery's one transaction finds the rows recorded: they go through the claim, sent once.
    expect(await handleAll(core, events, 2)).toEqual(events.map(() => undefined))
    expect(await core.outbox.count()).toBe(20)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 20 })
    expect(await published('notification.sent')).toHaveLength(20)
    await core.batchStore.flushMarkers()
    const row = (await core.deliveries.list({ userId: 'u-tx-0' })).items[0]
    expect(row).toMatchObject({ status: 'sent', attempts: 1, provider: 'outbox', publishedStatus: 'sent' })
    const [message] = (await core.outbox.list({ recipient: 'u-tx-0@example.com' })).items
    expect(message?.id).toBe(row?.providerMessageId as string)
    expect((await core.deliveries.attempts(row?.id ?? '')).map((a) => a.outcome)).toEqual(['sent'])
  })

  it('finds a delivery recorded under an id derived otherwise (an earlier release) by its unique key: the redelivery sends nothing again, on either path', async () => {
    const { core, published } = await app(engine)
    const events = Array.from({ length: 6 }, (_, i) => reset(`u-older-${i}`))
    expect(await handleAll(core, events)).toEqual(events.map(() => undefined))
    await core.batchStore.flushMarkers()
    // Each row moved to an id the planner does not derive any more (ids became time-ordered on 2026-12-04).
    const older = new Map<string, string>()
    for (const e of events) {
      const row = (await core.deliveries.list({ userId: e.payload.recipient.userId })).items[0]
      const id = derivedId(`older|${row?.id}`)
      older.set(e.payload.recipient.userId, id)
      for (const sql of [
        'UPDATE deliveries SET id = ? WHERE id = ?',
        'UPDATE delivery_attempts SET delivery_id = ? WHERE delivery_id = ?',
        "UPDATE outbox SET idempotency_key = replace(idempotency_key, ?2, ?1) WHERE idempotency_key LIKE '%' || ?2 || '%'",
      ])
        await core.database.client.execute({ sql, args: [id, row?.id ?? ''] })
    }
    // Redelivered through the one transaction, then through the path that claims: found by the batch itself,
    // left as they were (the batch did not fail over to handling each event alone).
    let alone = 0
    const { upsert } = core.handlerDeps.contacts
    core.handlerDeps.contacts.upsert = (input) => {
      alone++
      return upsert(input)
    }
    expect(await handleAll(core, events.slice(0, 3), 2)).toEqual([undefined, undefined, undefined])
    const insertAndSendMany = core.batchStore.insertAndSendMany
    core.batchStore.insertAndSendMany = async () => {
      throw new Error('the one-transaction path is unavailable')
    }
    expect(await handleAll(core, events.slice(3), 2)).toEqual([undefined, undefined, undefined])
    core.batchStore.insertAndSendMany = insertAndSendMany
    expect(alone).toBe(0)
    expect(await core.outbox.count()).toBe(6)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 6 })
    expect(await published('notification.sent')).toHaveLength(6)
    for (const e of events) {
      const row = (await core.deliveries.list({ userId: e.payload.recipient.userId })).items[0]
      expect(row).toMatchObject({ id: older.get(e.payload.recipient.userId), status: 'sent', attempts: 1 })
    }
  })

  it('writes the published markers of a batch in the next write transaction (or on their own when none comes): a crash before leaves no event lost, and the redelivery sends nothing again', async () => {
    // Owed markers wait a minute on their own: here they can only be written by the next transaction.
    const { core, redis, published } = await app(engine, {}, { markerDelayMs: 60_000 })
    const first = Array.from({ length: 5 }, (_, i) => reset(`u-mark-a${i}`))
    const second = Array.from({ length: 5 }, (_, i) => reset(`u-mark-b${i}`))
    const rowOf = async (userId: string) => (await core.deliveries.list({ userId })).items[0]
    expect(await handleAll(core, first)).toEqual(first.map(() => undefined))
    // Published, the marker owed (not a commit of its own).
    expect(await published('notification.sent')).toHaveLength(5)
    const a0 = await rowOf('u-mark-a0')
    expect(core.batchStore.owedMarker(a0?.id ?? '')).toBe('sent')
    expect(a0?.publishedStatus).toBeNull()
    // Redelivered in this process before the marker is written: the owed marker counts, nothing published again.
    expect(await handleAll(core, first, 2)).toEqual(first.map(() => undefined))
    expect(await published('notification.sent')).toHaveLength(5)
    expect(await handleAll(core, second)).toEqual(second.map(() => undefined))
    // The first batch's markers are written by now, in the second batch's transactions.
    await waitFor(async () => (await rowOf('u-mark-a0'))?.publishedStatus === 'sent', {
      timeoutMs: 5_000,
      message: 'the owed markers are written',
    })

    // A crash now loses the second batch's owed markers: a new process on the same database.
    const restarted = buildCore({
      database: core.database,
      redis,
      settings: core.settings,
      transports: core.transports,
      events: core.events,
    })
    const b0 = await rowOf('u-mark-b0')
    expect(core.batchStore.owedMarker(b0?.id ?? '')).toBe('sent')
    expect(b0?.publishedStatus).toBeNull()
    // Its redelivery: nothing sent again, the event published again only under its same id, the marker written.
    expect(await handleAll(restarted, second, 2)).toEqual(second.map(() => undefined))
    await restarted.batchStore.flushMarkers()
    expect(await core.outbox.count()).toBe(10)
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 10 })
    const sent = await published('notification.sent')
    expect(new Set(sent.map((e) => e.id)).size).toBe(10)
    expect(new Set(sent.map((e) => e.payload.notificationId))).toEqual(
      new Set(
        await Promise.all(
          [...first, ...second].map(async (e) => (await rowOf(e.payload.recipient.userId))?.id ?? 'missing'),
        ),
      ),
    )
    expect((await rowOf('u-mark-b0'))?.publishedStatus).toBe('sent')
    expect(await core.deliveries.attempts(b0?.id ?? '')).toMatchObject([{ attempt: 1, outcome: 'sent' }])
  })

  it('records a delivery the outbox refused inside the one transaction as taken with its attempt started, retried as after a claim; the redelivery sends it once', async () => {
    const { core, published } = await app(engine)
    const events = Array.from({ length: 3 }, (_, i) => reset(`u-refused-${i}`))
    const outbox = core.transports.email[0] as Transport
    const { sendBatchWithin } = outbox
    if (!sendBatchWithin) throw new Error('the email transport is not the local outbox')
    outbox.sendBatchWithin = async () => {
      throw new TransportError('transient', 'OUTBOX_DOWN', 'the outbox refused the batch')
    }
    const first = await handleAll(core, events)
    outbox.sendBatchWithin = sendBatchWithin
    expect(first.every((e) => e instanceof Error && e.message.includes('OUTBOX_DOWN'))).toBe(true)
    expect(await core.deliveries.countByStatus()).toEqual({ queued: 3 })
    expect(await core.outbox.count()).toBe(0)
    const row = (await core.deliveries.list({ userId: 'u-refused-0' })).items[0]
    expect(row).toMatchObject({ attempts: 1, errorCode: 'OUTBOX_DOWN', publishedStatus: null })
    expect(await core.deliveries.attempts(row?.id ?? '')).toMatchObject([{ attempt: 1, outcome: 'retry' }])

    expect(await handleAll(core, events, 2)).toEqual(events.map(() => undefined))
    expect(await core.deliveries.countByStatus()).toEqual({ sent: 3 })
    expect(await core.outbox.count()).toBe(3)
    expect(await published('notification.sent')).toHaveLength(3)
    expect((await core.deliveries.attempts(row?.id ?? '')).map((a) => a.outcome)).toEqual(['retry', 'sent'])
  })
})
