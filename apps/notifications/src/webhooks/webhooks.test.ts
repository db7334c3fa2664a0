import { afterAll, afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { Webhook } from 'svix'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { createTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../testing.ts'

const resend = startFakeResend()
afterAll(() => resend.close())

let t: TestApp
beforeEach(async () => {
  t = await createTestApp({ transports: { resend: { apiKey: resend.apiKey, baseUrl: resend.url } } })
})
afterEach(() => t.close())

const signer = new Webhook(TEST_WEBHOOK_SECRET)
const sign = (
  body: string,
  { id = `msg_${crypto.randomUUID()}`, at = new Date(), secret = signer } = {},
) => ({
  'content-type': 'application/json',
  'svix-id': id,
  'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
  'svix-signature': secret.sign(id, at, body),
})
const post = (body: string, headers: Record<string, string>) =>
  t.request('POST', '/v1/webhooks/resend', { token: null, body, headers })

/** Sends one welcome email through the fake Resend and returns its delivery. */
const sentDelivery = async (email: string) => {
  await t.handle(createEvent('user.registered', { userId: `u-${email}`, email }, { source: 'monolith' }))
  const row = (await t.core.deliveries.list({ userId: `u-${email}` })).items[0]
  if (!row?.providerMessageId) throw new Error('no sent delivery')
  return row
}
const webhookBody = (type: string, emailId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type,
    created_at: '2026-01-15T04:00:00.000Z',
    data: { email_id: emailId, created_at: '2026-01-15T04:00:00.000Z', ...extra },
  })

describe('POST /v1/webhooks/resend', () => {
  it('records delivered and publishes notification.delivered when the Svix signature verifies', async () => {
    const row = await sentDelivery('delivered@example.com')
    const body = webhookBody('email.delivered', row.providerMessageId ?? '')
    const response = await post(body, sign(body))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ outcome: 'recorded', status: 'delivered' })
    expect(await t.core.deliveries.get(row.id)).toMatchObject({
      status: 'delivered',
      deliveredAt: Date.parse('2026-01-15T04:00:00.000Z'),
    })
    const [event] = await t.published('notification.delivered')
    expect(event?.payload).toMatchObject({ notificationId: row.id, providerMessageId: row.providerMessageId })
  })

  it('records a bounce with its reason and a complaint, publishing notification.bounced for each', async () => {
    const bounced = await sentDelivery('bounced@example.com')
    const complained = await sentDelivery('complained@example.com')
    const b = webhookBody('email.bounced', bounced.providerMessageId ?? '', {
      bounce: { message: 'mailbox does not exist', type: 'Permanent' },
    })
    const c = webhookBody('email.complained', complained.providerMessageId ?? '')
    expect((await post(b, sign(b))).status).toBe(200)
    expect((await post(c, sign(c))).status).toBe(200)
    expect((await t.core.deliveries.get(bounced.id))?.status).toBe('bounced')
    expect((await t.core.deliveries.get(complained.id))?.status).toBe('complained')
    const events = await t.published('notification.bounced')
    expect(events.map((e) => [e.payload.kind, e.payload.reason ?? null]).sort()).toEqual([
      ['bounced', 'mailbox does not exist'],
      ['complained', null],
    ])
  })

  it('answers 401 and records nothing for a wrong signature, a wrong secret, a stale timestamp or missing headers', async () => {
    const row = await sentDelivery('forged@example.com')
    const body = webhookBody('email.bounced', row.providerMessageId ?? '')
    const tampered = { ...sign(body), 'svix-signature': sign(`${body} `)['svix-signature'] }
    const otherSecret = sign(body, {
      secret: new Webhook(`whsec_${Buffer.from('another-secret-0123456789abcdef').toString('base64')}`),
    })
    const stale = sign(body, { at: new Date(Date.now() - 3600_000) })
    for (const headers of [tampered, otherSecret, stale, { 'content-type': 'application/json' }]) {
      const response = await post(body, headers)
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_SIGNATURE')
    }
    expect((await t.core.deliveries.get(row.id))?.status).toBe('sent')
    expect(await t.published('notification.bounced')).toHaveLength(0)
  })

  it('applies a retried webhook (same svix-id) once', async () => {
    const row = await sentDelivery('retried@example.com')
    const body = webhookBody('email.delivered', row.providerMessageId ?? '')
    const headers = sign(body)
    expect(await (await post(body, headers)).json()).toMatchObject({ outcome: 'recorded' })
    expect(await (await post(body, headers)).json()).toEqual({ outcome: 'duplicate' })
    expect(await t.published('notification.delivered')).toHaveLength(1)
  })

  it('acknowledges events it does not track and messages it never sent', async () => {
    const opened = webhookBody('email.opened', 'whatever')
    expect(await (await post(opened, sign(opened))).json()).toEqual({ outcome: 'ignored' })
    const unknown = webhookBody('email.delivered', 'not-ours')
    expect(await (await post(unknown, sign(unknown))).json()).toEqual({ outcome: 'unknown-message' })
  })

  it('asks the provider to retry (409) a recent webhook for a message not recorded yet, and records it on the retry', async () => {
    const row = await sentDelivery('early@example.com')
    const id = row.providerMessageId ?? ''
    await t.core.database.client.execute({
      sql: 'UPDATE deliveries SET provider_message_id = NULL WHERE id = ?',
      args: [row.id],
    })
    const now = new Date().toISOString()
    const body = JSON.stringify({
      type: 'email.delivered',
      created_at: now,
      data: { email_id: id, created_at: now },
    })
    const headers = sign(body)
    const early = await post(body, headers)
    expect(early.status).toBe(409)
    await t.core.database.client.execute({
      sql: 'UPDATE deliveries SET provider_message_id = ? WHERE id = ?',
      args: [id, row.id],
    })
    expect(await (await post(body, headers)).json()).toEqual({ outcome: 'recorded', status: 'delivered' })
  })
})
