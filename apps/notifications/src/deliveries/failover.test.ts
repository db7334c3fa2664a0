import { afterAll, afterEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { NonRetryableError } from '@flotilla/streams'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { createResendTransport } from '../channels/resend.ts'
import type { Transport } from '../channels/types.ts'
import { createTestApp, type TestApp } from '../testing.ts'

const first = startFakeResend()
const second = startFakeResend()
afterAll(async () => {
  await first.close()
  await second.close()
})

const resendAt = (fake: typeof first): Transport =>
  createResendTransport({
    apiKey: fake.apiKey,
    baseUrl: fake.url,
    from: 'F <f@flotilla.test>',
    timeoutMs: 300,
  })
const request = (user: string) =>
  createEvent(
    'notification.requested',
    { recipient: { userId: user, email: `${user}@example.com` }, template: 'welcome', data: { name: 'Lin' } },
    { source: 'monolith' },
  )
const sentBy = (fake: typeof first, user: string) =>
  fake.emails.filter((e) => e.to.includes(`${user}@example.com`))

describe('provider failover', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })
  const start = async (failures = 5) => {
    t = await createTestApp({
      settings: { circuit: { failures, openMs: 60_000 } },
      transportOverrides: { email: [resendAt(first), resendAt(second)] },
    })
  }
  const attemptsOf = async (user: string) => {
    const [row] = (await t.core.deliveries.list({ userId: user })).items
    return {
      row,
      log: (await t.core.deliveries.attempts(row?.id ?? '')).map((a) => [a.provider, a.outcome, a.errorCode]),
    }
  }

  it('hands a delivery the first provider answered 503 to the next in the same pass, under its own key', async () => {
    await start()
    first.faults.next({ kind: 'status', status: 503 })
    await t.handle(request('u-503'))
    const { row, log } = await attemptsOf('u-503')
    expect(row).toMatchObject({ status: 'sent', provider: 'resend', failedOver: true, attempts: 2 })
    expect(log).toEqual([
      ['resend', 'failover', 'RESEND_APPLICATION_ERROR'],
      ['resend', 'sent', null],
    ])
    expect(sentBy(first, 'u-503')).toHaveLength(0)
    const [mail] = sentBy(second, 'u-503')
    expect(mail?.idempotencyKey).toBe(`flotilla-notification-${row?.id}-resend`)
  })

  it('never hands over a permanent refusal (the next provider would refuse the same message)', async () => {
    await start()
    first.rejected.add('u-refused@example.com')
    expect(await t.handle(request('u-refused')).catch((e: unknown) => e)).toBeInstanceOf(NonRetryableError)
    const { row, log } = await attemptsOf('u-refused')
    expect(row?.status).toBe('dead')
    expect(log).toEqual([['resend', 'dead', 'RESEND_VALIDATION_ERROR']])
    expect(sentBy(second, 'u-refused')).toHaveLength(0)
  })

  it('keeps a timed-out delivery with its provider (it may hold the message) and retries it there', async () => {
    await start()
    first.faults.next({ kind: 'slow', ms: 1500 })
    const error = await t.handle(request('u-slow')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    const { row, log } = await attemptsOf('u-slow')
    expect(row?.status).toBe('queued')
    expect(log).toEqual([['resend', 'retry', 'PROVIDER_TIMEOUT']])
    expect(sentBy(second, 'u-slow')).toHaveLength(0)
  })

  it('skips a provider whose circuit is open without calling it', async () => {
    await start(2)
    first.faults.next({ kind: 'status', status: 500 })
    first.faults.next({ kind: 'status', status: 500 })
    await t.handle(request('u-c1'))
    await t.handle(request('u-c2'))
    const before = first.requests
    await t.handle(request('u-c3'))
    expect(first.requests).toBe(before)
    const { row, log } = await attemptsOf('u-c3')
    expect(row).toMatchObject({ status: 'sent', failedOver: true })
    expect(log).toEqual([
      ['resend', 'failover', 'CIRCUIT_OPEN'],
      ['resend', 'sent', null],
    ])
    expect(['u-c1', 'u-c2', 'u-c3'].map((u) => sentBy(second, u).length)).toEqual([1, 1, 1])
  })

  it('resends an abandoned attempt only through the provider that may hold it', async () => {
    let backupCalls = 0
    const backup: Transport = {
      channel: 'email',
      provider: 'backup',
      idempotent: true,
      async send() {
        backupCalls++
        return { providerMessageId: `backup-${backupCalls}` }
      },
    }
    t = await createTestApp({ transportOverrides: { email: [resendAt(first), backup] } })
    first.faults.next({ kind: 'status', status: 503 })
    const event = request('u-crash')
    await t.handle(event)
    const [row] = (await t.core.deliveries.list({ userId: 'u-crash' })).items
    // As if the worker that sent through the backup had died before recording it: the row is back to sending,
    // its lease long expired.
    await t.core.database.client.execute({
      sql: "UPDATE deliveries SET status = 'sending', lease_until = 1 WHERE id = ?",
      args: [row?.id ?? ''],
    })
    await t.handle(event, { deliveryCount: 2 })
    const { log } = await attemptsOf('u-crash')
    expect(log).toEqual([
      ['resend', 'failover', 'RESEND_APPLICATION_ERROR'],
      ['backup', 'abandoned', 'LEASE_EXPIRED'],
      ['backup', 'sent', null],
    ])
    expect(backupCalls).toBe(2)
    expect(sentBy(first, 'u-crash')).toHaveLength(0)
  })
})
