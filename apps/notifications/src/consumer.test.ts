import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { type Consumer, createDeadLetters, createPublisher } from '@flotilla/streams'
import { waitFor } from '@flotilla/streams/testing'
import { startFakeResend } from './channels/fakes/resend-server.ts'
import { createNotificationConsumer } from './consumer.ts'
import { createTestApp, REDIS_URL, type TestApp } from './testing.ts'

const resend = startFakeResend()
let t: TestApp
let consumer: Consumer

beforeAll(async () => {
  t = await createTestApp({ transports: { resend: { apiKey: resend.apiKey, baseUrl: resend.url } } })
  consumer = createNotificationConsumer({
    redisUrl: REDIS_URL,
    stream: t.stream,
    handlerDeps: t.core.handlerDeps,
    claimIdleMs: 1000,
    blockMs: 100,
    backoff: { baseMs: 50, maxMs: 200 },
  })
  await consumer.start()
})
afterAll(async () => {
  await consumer.close()
  await t.close()
  await resend.close()
})

const reset = (email: string, data: Record<string, unknown>) =>
  createEvent(
    'notification.requested',
    { recipient: { userId: `u-${email}`, email }, template: 'password-reset', data },
    { source: 'monolith' },
  )
const sentTo = (email: string) => resend.emails.filter((e) => e.to.includes(email)).length

describe('the notifications consumer', () => {
  it('sends once per event, dead-letters bad data naming the variable, and a replay revives only the dead delivery', async () => {
    const publisher = createPublisher({ redis: t.redis, stream: t.stream })
    const good = reset('good@example.com', { resetUrl: 'https://app.test/r/1', expiresInMinutes: 10 })
    const missing = reset('missing@example.com', { expiresInMinutes: 10 })
    resend.rejected.add('refused@example.com')
    const refused = reset('refused@example.com', { resetUrl: 'https://app.test/r/2', expiresInMinutes: 10 })
    await publisher.publishBatch([good, good, missing, refused]) // `good` appended twice (a producer retry)

    const dlq = createDeadLetters({ redis: t.redis, stream: t.stream, group: 'notifications' })
    await waitFor(async () => sentTo('good@example.com') === 1 && (await dlq.count()) === 2, {
      timeoutMs: 15_000,
      message: 'one send and two dead letters',
    })
    const { items } = await dlq.list({ limit: 10 })
    const byEvent = new Map(items.map((d) => [JSON.parse(d.event).id as string, d]))
    const missingLetter = byEvent.get(missing.id)
    expect(missingLetter?.error.code).toBe('TEMPLATE_DATA_INVALID')
    expect(missingLetter?.error.message).toContain('"resetUrl"')
    expect(byEvent.get(refused.id)?.error.code).toBe('RESEND_VALIDATION_ERROR')
    expect(missingLetter?.deliveries).toBe(1) // dead-lettered at once, not retried

    // The operator fixes the cause and replays: the dead delivery is sent, nothing else is.
    resend.rejected.delete('refused@example.com')
    await dlq.replay(byEvent.get(refused.id)?.id ?? '')
    // The provider sees the send before the row is settled and its event published: wait for the event.
    await waitFor(
      async () =>
        sentTo('refused@example.com') === 1 && (await t.published('notification.sent')).length === 2,
      { timeoutMs: 15_000, message: 'replayed send, settled and published' },
    )
    const rows = (await t.core.deliveries.list({ userId: 'u-refused@example.com' })).items
    expect(rows.map((r) => [r.status, r.attempts, r.keyGeneration])).toEqual([['sent', 2, 1]])
    // A refusal is kept under its key by the provider: the replay sent under a new one.
    const keys = resend.emails
      .filter((e) => e.to.includes('refused@example.com'))
      .map((e) => e.idempotencyKey)
    expect(keys[0]).toEndWith('-g1-resend')
    expect(sentTo('good@example.com')).toBe(1)
    expect(await t.published('notification.sent')).toHaveLength(2)
    expect((await t.published('notification.failed')).map((e) => e.payload.error.code).sort()).toEqual([
      'RESEND_VALIDATION_ERROR',
      'TEMPLATE_DATA_INVALID',
    ])
  }, 30_000)
})
