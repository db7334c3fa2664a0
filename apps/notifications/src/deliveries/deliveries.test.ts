import { afterAll, afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { NonRetryableError, RetryLaterError } from '@flotilla/streams'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { startFakeTwilio } from '../channels/fakes/twilio-server.ts'
import { createResendTransport } from '../channels/resend.ts'
import { createTwilioTransport } from '../channels/twilio.ts'
import type { Transport } from '../channels/types.ts'
import { createTestApp, type TestApp } from '../testing.ts'

const resend = startFakeResend()
const twilio = startFakeTwilio()
afterAll(async () => {
  await resend.close()
  await twilio.close()
})

const request = (email: string, extra: { phone?: string; channels?: ('email' | 'sms')[] } = {}) =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId: `u-${email}`, email, ...(extra.phone ? { phone: extra.phone } : {}) },
      template: 'welcome',
      ...(extra.channels ? { channels: extra.channels } : {}),
      data: { name: 'Lin' },
    },
    { source: 'monolith' },
  )
const sentTo = (email: string) => resend.emails.filter((e) => e.to.includes(email))
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  )

describe('delivery through Resend', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp({ transports: { resend: { apiKey: resend.apiKey, baseUrl: resend.url } } })
  })
  afterEach(async () => {
    await t.close()
  })
  const rowOf = async (email: string) => (await t.core.deliveries.list({ userId: `u-${email}` })).items[0]
  /** The next send answers 409 with this Resend error name. */
  const conflictOnce = (name: string, message: string) =>
    resend.faults.next({ kind: 'status', status: 409, body: { statusCode: 409, name, message } })

  it('retries a 503 with the same Idempotency-Key and sends once, keeping each attempt and its error', async () => {
    const event = request('retry@example.com')
    resend.faults.next({ kind: 'status', status: 503 })
    const error = await failureOf(t.handle(event))
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(NonRetryableError)
    expect(error).not.toBeInstanceOf(RetryLaterError) // the stream runtime's backoff decides the delay
    expect(await rowOf('retry@example.com')).toMatchObject({
      status: 'queued',
      errorCode: 'RESEND_APPLICATION_ERROR',
    })
    await t.handle(event, { deliveryCount: 2 })
    const row = await rowOf('retry@example.com')
    expect(row).toMatchObject({ status: 'sent', attempts: 2, provider: 'resend' })
    const attempts = await t.core.deliveries.attempts(row?.id ?? '')
    expect(attempts.map((a) => [a.outcome, a.errorCode])).toEqual([
      ['retry', 'RESEND_APPLICATION_ERROR'],
      ['sent', null],
    ])
    expect(sentTo('retry@example.com')).toHaveLength(1)
    expect(sentTo('retry@example.com')[0]?.idempotencyKey).toContain(row?.id ?? 'missing')
  })

  it('comes back after retry-after on a 429 and pauses the provider for every instance', async () => {
    resend.faults.next({
      kind: 'status',
      status: 429,
      retryAfter: '3',
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' },
    })
    const error = await failureOf(t.handle(request('limited@example.com')))
    expect(error).toBeInstanceOf(RetryLaterError)
    expect((error as RetryLaterError).delayMs).toBe(3000)
    const pausedUntil = Number(await t.redis.get(`${t.core.settings.redisPrefix}ratelimit:resend`))
    expect(pausedUntil).toBeGreaterThan(Date.now() + 2000)
  })

  it('retries 409 concurrent_idempotent_requests', async () => {
    conflictOnce('concurrent_idempotent_requests', 'in progress')
    const error = await failureOf(t.handle(request('concurrent@example.com')))
    expect(error).not.toBeInstanceOf(NonRetryableError)
    expect(await rowOf('concurrent@example.com')).toMatchObject({ status: 'queued' })
  })

  it('dead-letters 409 invalid_idempotent_request at once and publishes notification.failed', async () => {
    conflictOnce('invalid_idempotent_request', 'different payload')
    const error = await failureOf(t.handle(request('mismatch@example.com')))
    expect(error).toBeInstanceOf(NonRetryableError)
    expect(await rowOf('mismatch@example.com')).toMatchObject({
      status: 'dead',
      errorCode: 'RESEND_INVALID_IDEMPOTENT_REQUEST',
    })
    const [failed] = await t.published('notification.failed')
    expect(failed?.payload).toMatchObject({
      attempts: 1,
      error: { code: 'RESEND_INVALID_IDEMPOTENT_REQUEST' },
    })
  })

  it('dead-letters a 422 validation error at once without a second attempt', async () => {
    resend.rejected.add('refused@example.com')
    const event = request('refused@example.com')
    expect(await failureOf(t.handle(event))).toBeInstanceOf(NonRetryableError)
    // A redelivery of the event does not try again.
    expect(await failureOf(t.handle(event, { deliveryCount: 2 }))).toBeInstanceOf(NonRetryableError)
    expect(await rowOf('refused@example.com')).toMatchObject({ status: 'dead', attempts: 1 })
  })

  it('gives up on the last delivery: dead, with notification.failed', async () => {
    resend.faults.next({ kind: 'status', status: 500 })
    const error = await failureOf(t.handle(request('last@example.com'), { deliveryCount: 5 }))
    expect(error).toBeInstanceOf(NonRetryableError)
    expect(await rowOf('last@example.com')).toMatchObject({ status: 'dead' })
    expect((await rowOf('last@example.com'))?.errorMessage).toContain('out of retries')
    expect(await t.published('notification.failed')).toHaveLength(1)
  })

  it('meets Resend’s 409 concurrent_idempotent_requests when it retries while the first request is in flight, and retries again', async () => {
    const event = request('inflight@example.com')
    resend.faults.next({ kind: 'slow', ms: 3000 }) // the first request is still running when the client gives up
    await failureOf(t.handle(event))
    const concurrent = await failureOf(t.handle(event, { deliveryCount: 2 }))
    expect(concurrent).not.toBeInstanceOf(NonRetryableError)
    expect((await rowOf('inflight@example.com'))?.errorCode).toBe('RESEND_CONCURRENT_IDEMPOTENT_REQUESTS')
    await Bun.sleep(2200) // the first request finishes
    await t.handle(event, { deliveryCount: 3 })
    expect(sentTo('inflight@example.com')).toHaveLength(1)
    expect(await rowOf('inflight@example.com')).toMatchObject({ status: 'sent', attempts: 3 })
  })

  it('resends after an answer that came too late with the same key, and Resend returns the first message', async () => {
    const before = resend.emails.length
    resend.faults.next({ kind: 'slow', ms: 1500 }) // accepted now, answered after the 1 s timeout
    const event = request('late@example.com')
    const error = await failureOf(t.handle(event))
    expect((await rowOf('late@example.com'))?.errorCode).toBe('PROVIDER_TIMEOUT')
    expect(error).not.toBeInstanceOf(NonRetryableError)
    await Bun.sleep(600) // the first request finishes on the provider side
    await t.handle(event, { deliveryCount: 2 })
    expect(resend.emails.length - before).toBe(1)
    expect((await rowOf('late@example.com'))?.providerMessageId).toBe(
      sentTo('late@example.com')[0]?.id ?? 'x',
    )
  })
})

/** A transport that sends for real, then never answers: the process "froze" after the provider accepted. */
const freezeAfterSend = (inner: Transport): Transport & { frozen: number } => {
  const wrapper = {
    ...inner,
    frozen: 0,
    async send(request: Parameters<Transport['send']>[0]) {
      if (wrapper.frozen > 0) return inner.send(request)
      await inner.send(request)
      wrapper.frozen++
      return new Promise<never>(() => {})
    },
  }
  return wrapper
}

describe('a crash between send and record', () => {
  let t: TestApp
  afterEach(async () => {
    await t.close()
  })

  it('resends through Resend with the same key once the lease expires, and no second email exists', async () => {
    const email = freezeAfterSend(
      createResendTransport({
        apiKey: resend.apiKey,
        baseUrl: resend.url,
        from: 'a@flotilla.test',
        timeoutMs: 200,
      }),
    )
    t = await createTestApp({ settings: { providerTimeoutMs: 200 }, transportOverrides: { email } })
    const event = request('crash@example.com')
    void t.handle(event) // never settles: the "crashed" worker
    await Bun.sleep(2500) // the lease (2 × 200 ms + 1 s) has expired: the other worker takes over
    await t.handle(event, { deliveryCount: 2 })
    expect(sentTo('crash@example.com')).toHaveLength(1)
    const row = (await t.core.deliveries.list({ userId: 'u-crash@example.com' })).items[0]
    expect(row).toMatchObject({ status: 'sent', attempts: 2 })
    const log = await t.core.deliveries.attempts(row?.id ?? '')
    expect(log.map((a) => [a.outcome, a.errorCode])).toEqual([
      ['abandoned', 'LEASE_EXPIRED'],
      ['sent', null],
    ])
  })

  it('marks an SMS failed with OUTCOME_UNKNOWN instead of risking a second text (Twilio has no idempotency key)', async () => {
    const sms = freezeAfterSend(
      createTwilioTransport({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: '+15005550006',
        baseUrl: twilio.url,
        timeoutMs: 200,
      }),
    )
    t = await createTestApp({ settings: { providerTimeoutMs: 200 }, transportOverrides: { sms } })
    const phone = '+33698765432'
    const event = request('sms-crash@example.com', { phone, channels: ['sms'] })
    void t.handle(event)
    await Bun.sleep(2500) // past the lease
    await t.handle(event, { deliveryCount: 2 })
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(1)
    const row = (await t.core.deliveries.list({ userId: 'u-sms-crash@example.com' })).items[0]
    expect(row).toMatchObject({ status: 'failed', errorCode: 'OUTCOME_UNKNOWN' })
    const [failed] = await t.published('notification.failed')
    expect(failed?.payload.error.code).toBe('OUTCOME_UNKNOWN')
  })
})

describe('the outbound rate limit', () => {
  it('is shared by instances: a second instance waits for the next Resend slot instead of sending at once', async () => {
    const shared = { redisPrefix: `test:notifications:shared:${crypto.randomUUID().slice(0, 8)}:` }
    // One request every 2 s, and no in-process waiting: a busy slot is answered with RetryLaterError.
    const settings = { ...shared, rateLimits: { resend: 0.5 }, rateLimitMaxWaitMs: 0 }
    const transports = { resend: { apiKey: resend.apiKey, baseUrl: resend.url } }
    const [a, b] = [
      await createTestApp({ settings, transports }),
      await createTestApp({ settings, transports }),
    ]
    try {
      await a.handle(request('slot-a@example.com'))
      const error = await failureOf(b.handle(request('slot-b@example.com')))
      expect(error).toBeInstanceOf(RetryLaterError)
      expect(error?.message).toContain('RATE_LIMITED')
      expect((error as RetryLaterError).delayMs).toBeGreaterThan(0)
      expect((error as RetryLaterError).delayMs).toBeLessThanOrEqual(2000)
      expect(sentTo('slot-a@example.com')).toHaveLength(1)
      expect(sentTo('slot-b@example.com')).toHaveLength(0)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
