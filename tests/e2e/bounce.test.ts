/**
 * A provider webhook (Resend, Svix-signed) says an email bounced: the delivery is marked bounced,
 * `notification.bounced` is published, audited and counted. Emails go to a local server that speaks the Resend API.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { createHmac, randomBytes } from 'node:crypto'
import { type FakeResend, startFakeResend } from '@flotilla/notifications/testing'
import { analyticsCount, auditRecords, deliveriesOf, monolith } from './harness/api.ts'
import { call, eventually } from './harness/http.ts'
import { APP_NAMES, type Stack, startStack } from './harness/stack.ts'

// Real processes on a shared 2-core machine: flows wait up to 20 s for the consumers.
setDefaultTimeout(60_000)

const secretBytes = randomBytes(32)
const WEBHOOK_SECRET = `whsec_${secretBytes.toString('base64')}`
let stack: Stack
let resend: FakeResend

/** Signs a body the way Svix does: HMAC-SHA256 over `id.timestamp.body` with the decoded secret. */
const svixHeaders = (
  body: string,
  secret: Buffer = secretBytes,
  id = `msg_${randomBytes(8).toString('hex')}`,
) => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const signature = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64')
  return {
    'svix-id': id,
    'svix-timestamp': timestamp,
    'svix-signature': `v1,${signature}`,
    'content-type': 'application/json',
  }
}

const webhook = (body: string, headers: Record<string, string>) =>
  fetch(`${stack.url('notifications')}/v1/webhooks/resend`, { method: 'POST', body, headers })

describe('bounce webhook', () => {
  beforeAll(async () => {
    resend = startFakeResend()
    stack = await startStack({
      apps: APP_NAMES,
      env: {
        notifications: {
          RESEND_API_KEY: resend.apiKey,
          RESEND_BASE_URL: resend.url,
          RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
          RESEND_RATE_PER_SECOND: '100',
        },
      },
    })
  }, 120_000)
  afterAll(async () => {
    await stack?.stop()
    await resend?.close()
  })

  it('marks the email bounced on a signed webhook, and audit and analytics see notification.bounced', async () => {
    const email = 'bounces@example.com'
    const registered = await monolith<{ userId: string }>(stack, 'POST', '/register', {
      email,
      password: 'correct horse battery',
    })
    expect(registered.status).toBe(201)
    const userId = registered.body.userId
    // The welcome email went out through "Resend".
    const welcome = await eventually('the welcome email sent through Resend', async () =>
      (await deliveriesOf(stack, userId)).find((d) => d.template === 'welcome' && d.status === 'sent'),
    )
    expect(welcome.providerMessageId).toBe(resend.emails.find((e) => e.to.includes(email))?.id ?? 'missing')

    const body = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: {
        email_id: welcome.providerMessageId,
        created_at: new Date().toISOString(),
        bounce: { message: 'The recipient mailbox does not exist', type: 'Permanent', subType: 'General' },
      },
    })
    // A forged signature is refused and changes nothing.
    const forged = await webhook(body, svixHeaders(body, randomBytes(32)))
    expect(forged.status).toBe(401)
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('INVALID_SIGNATURE')
    expect((await deliveriesOf(stack, userId)).find((d) => d.id === welcome.id)?.status).toBe('sent')

    const headers = svixHeaders(body)
    const accepted = await webhook(body, headers)
    expect(accepted.status).toBe(200)
    expect(await accepted.json()).toEqual({ outcome: 'recorded', status: 'bounced' })
    // The provider retries the same webhook: nothing new happens.
    expect(await (await webhook(body, headers)).json()).toEqual({ outcome: 'duplicate' })
    expect((await deliveriesOf(stack, userId)).find((d) => d.id === welcome.id)?.status).toBe('bounced')

    const [bounced] = await eventually('notification.bounced in audit', async () => {
      const found = await auditRecords(stack, { type: 'notification.bounced' })
      return found.length > 0 ? found : undefined
    })
    expect(bounced?.source).toBe('notifications')
    expect(bounced?.payload).toMatchObject({
      providerMessageId: welcome.providerMessageId,
      kind: 'bounced',
      reason: 'The recipient mailbox does not exist',
    })
    await eventually('analytics counts the bounce', async () =>
      (await analyticsCount(stack, 'notification.bounced')) === 1 ? true : undefined,
    )
    // Exactly one, although the webhook came twice.
    expect(await auditRecords(stack, { type: 'notification.bounced' })).toHaveLength(1)
  })

  it('answers 401 to a webhook without Svix headers', async () => {
    const res = await call('POST', `${stack.url('notifications')}/v1/webhooks/resend`, {
      body: { type: 'email.bounced' },
    })
    expect(res.status).toBe(401)
  })
})
