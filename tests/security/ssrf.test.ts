/**
 * URL fields that point inside the network (loopback, link-local, `.internal`) are refused. The only URLs the
 * apps take are push subscription endpoints, in `notification.requested` events: the contract should refuse
 * them (a 422-equivalent CONTRACT_VIOLATION at the event edge), and notifications must never push to them.
 */
import { describe, expect, it } from 'bun:test'
import { startFakePushService } from '../../apps/notifications/src/channels/fakes/push-server.ts'
import { createTestApp } from '../../apps/notifications/src/testing.ts'
import { createEvent, decodeEntry } from '@flotilla/contracts'

const INTERNAL_ENDPOINTS = [
  'https://127.0.0.1/push/1',
  'https://localhost/push/1',
  'https://[::1]/push/1',
  'https://169.254.169.254/latest/meta-data/',
  'https://[fe80::1]/push/1',
  'https://flotilla-auth.internal:3001/v1/keys/rotate',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://0.0.0.0/push/1',
]

const requestFor = (endpoint: string) =>
  createEvent(
    'notification.requested',
    {
      recipient: { userId: 'u_ssrf', pushSubscriptions: [{ endpoint, keys: { p256dh: 'k', auth: 'a' } }] },
      template: 'welcome',
      channels: ['push'],
      data: { name: 'Grace' },
    },
    { source: 'monolith' },
  )

/** A VAPID key pair (P-256) in the base64url forms web-push takes. */
const vapidKeys = async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
  ])) as CryptoKeyPair
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey)
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ])
  return { publicKey: point.toString('base64url'), privateKey: jwk.d ?? '' }
}

describe('push subscription endpoints', () => {
  it('are refused by the contract when they point at loopback, link-local or .internal hosts', () => {
    const accepted = INTERNAL_ENDPOINTS.filter((endpoint) => {
      const event = requestFor(endpoint)
      return decodeEntry(['type', event.type, 'event', JSON.stringify(event)]).ok
    })
    expect(accepted).toEqual([])
  })

  it('are never pushed to by notifications when they point at loopback', async () => {
    const fake = startFakePushService()
    const vapid = await vapidKeys()
    const t = await createTestApp({
      transports: {
        webPush: {
          vapidSubject: 'mailto:ops@flotilla.test',
          vapidPublicKey: vapid.publicKey,
          vapidPrivateKey: vapid.privateKey,
          agent: fake.agent,
        },
      },
    })
    try {
      // The fake push service listens on https://127.0.0.1:<port>: a stand-in for any internal HTTPS service.
      const subscription = fake.subscription()
      const event = createEvent(
        'notification.requested',
        {
          recipient: { userId: 'u_ssrf', pushSubscriptions: [subscription] },
          template: 'welcome',
          channels: ['push'],
          data: { name: 'Grace' },
        },
        { source: 'monolith' },
      )
      await t.handle(event).catch(() => {})
      expect(fake.pushes.map((p) => p.endpoint)).toEqual([])
    } finally {
      await t.cleanup()
      await fake.close()
    }
  })
})
