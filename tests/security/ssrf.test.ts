/**
 * URL fields that point inside the network (loopback, link-local, `.internal`) are refused. The only URLs the
 * apps take are push subscription endpoints, in `notification.requested` events: the contract should refuse
 * them (a 422-equivalent CONTRACT_VIOLATION at the event edge), and notifications must never push to them —
 * neither to an address spelled oddly enough to pass the contract, nor to a public-looking name that resolves
 * to an internal address (the check is on the resolved address, at connect time).
 */
import { describe, expect, it } from 'bun:test'
import { createEvent, decodeEntry } from '@flotilla/contracts'
import {
  createTestApp,
  createWebPushTransport,
  FAKE_PUSH_HOST,
  startFakePushService,
} from '@flotilla/notifications/testing'
import { NonRetryableError } from '@flotilla/streams'

const INTERNAL_ENDPOINTS = [
  'https://127.0.0.1/push/1',
  'https://localhost/push/1',
  'https://[::1]/push/1',
  'https://169.254.169.254/latest/meta-data/',
  'https://[fe80::1]/push/1',
  'https://flotilla-auth.internal:3001/v1/keys/rotate',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://0.0.0.0/push/1',
  // Found by the outside probe: IPv4-compatible IPv6 and a host with an empty label both passed.
  'https://[::127.0.0.1]:8443/push/1',
  'https://localhost..:8443/push/1',
  'https://[::ffff:7f00:1]/push/1',
  'https://100.64.0.1/push/1',
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

/** Web Push options trusting `ca` (the fake push service's), with a fresh VAPID key pair (P-256, base64url). */
const webPushOptions = async (ca: string) => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
  ])) as CryptoKeyPair
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey)
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ])
  return {
    vapidSubject: 'mailto:ops@flotilla.test',
    vapidPublicKey: point.toString('base64url'),
    vapidPrivateKey: jwk.d ?? '',
    ca,
  }
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
    const t = await createTestApp({ transports: { webPush: await webPushOptions(fake.ca) } })
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
      await t.close()
      await fake.close()
    }
  })
})

describe('the Web Push transport (the last check before a socket opens)', () => {
  it('never dials endpoints spelled to slip past the name filter, and refuses them for good', async () => {
    const fake = startFakePushService()
    // Resolves the public-looking name to loopback, as an attacker's DNS would.
    const resolve = async (hostname: string) =>
      hostname === FAKE_PUSH_HOST ? [{ address: '127.0.0.1', family: 4 }] : []
    const transport = createWebPushTransport({ ...(await webPushOptions(fake.ca)), resolve })
    try {
      const outcomes: Record<string, unknown> = {}
      for (const origin of [
        `https://[::127.0.0.1]:${fake.port}`,
        `https://localhost..:${fake.port}`,
        `https://${FAKE_PUSH_HOST}:${fake.port}`,
      ]) {
        // Valid keys, so nothing but the endpoint can stop it.
        const subscription = { ...fake.subscription(), endpoint: `${origin}/push/${crypto.randomUUID()}` }
        const error = await transport
          .send({
            address: { channel: 'push', subscription },
            message: { channel: 'push', title: 'Welcome', body: 'hello' },
            idempotencyKey: crypto.randomUUID(),
          })
          .then(
            () => undefined,
            (e: { kind?: string; code?: string }) => ({ kind: e.kind, code: e.code }),
          )
        outcomes[origin] = error
      }
      for (const outcome of Object.values(outcomes))
        expect(outcome).toEqual({ kind: 'permanent', code: 'PUSH_ENDPOINT_REFUSED' })
      expect(fake.requests.count).toBe(0)
    } finally {
      await fake.close()
    }
  })

  it('dead-letters a notification.requested whose push endpoint name resolves to loopback', async () => {
    const fake = startFakePushService()
    const t = await createTestApp({
      transports: {
        webPush: {
          ...(await webPushOptions(fake.ca)),
          resolve: async () => [{ address: '127.0.0.1', family: 4 }],
        },
      },
    })
    try {
      const event = createEvent(
        'notification.requested',
        {
          recipient: { userId: 'u_ssrf', pushSubscriptions: [fake.subscription(FAKE_PUSH_HOST)] },
          template: 'welcome',
          channels: ['push'],
          data: { name: 'Grace' },
        },
        { source: 'monolith' },
      )
      // The name is public-looking, so the contract lets it through; only the address gives it away.
      expect(decodeEntry(['type', event.type, 'event', JSON.stringify(event)]).ok).toBe(true)
      const error = await t.handle(event).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(NonRetryableError)
      expect((error as NonRetryableError).code).toBe('PUSH_ENDPOINT_REFUSED')
      expect(fake.requests.count).toBe(0)
    } finally {
      await t.close()
      await fake.close()
    }
  })
})
