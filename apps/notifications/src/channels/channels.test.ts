import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import webpush from 'web-push'
import { openDatabase } from '../db/client.ts'
import { createOutboxStore, createOutboxTransport } from '../outbox/store.ts'
import { describeTransportConformance } from './conformance.ts'
import { startFakePushService } from './fakes/push-server.ts'
import { startFakeResend } from './fakes/resend-server.ts'
import { startFakeTwilio } from './fakes/twilio-server.ts'
import { createResendTransport } from './resend.ts'
import { createTwilioTransport } from './twilio.ts'
import type { Address } from './types.ts'
import { createWebPushTransport } from './web-push.ts'

const TIMEOUT_MS = 300
const SLOW_MS = 900
let sequence = 0
const nextPhone = () => `+3361${String(1_000_000 + ++sequence).slice(-7)}`

describeTransportConformance(
  'local outbox (libSQL)',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-conformance-'))
    const database = await openDatabase({ url: `file:${join(dir, 'outbox.db')}` })
    const store = createOutboxStore(database.db)
    return {
      transport: createOutboxTransport(database.db, 'email'),
      address: () => ({ channel: 'email', email: `${crypto.randomUUID()}@example.com` }),
      delivered: async (address: Address) =>
        (await store.list({ recipient: address.channel === 'email' ? address.email : '', limit: 100 })).items
          .length,
      async cleanup() {
        database.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { providerFaults: false },
)

describeTransportConformance(
  'Resend (real SDK against a local Resend API)',
  async () => {
    const fake = startFakeResend()
    const emailOf = (a: Address) => (a.channel === 'email' ? a.email : '')
    return {
      transport: createResendTransport({
        apiKey: fake.apiKey,
        baseUrl: fake.url,
        from: 'Flotilla <no-reply@flotilla.test>',
        timeoutMs: TIMEOUT_MS,
      }),
      address: () => ({ channel: 'email', email: `${crypto.randomUUID()}@example.com` }),
      invalidAddress() {
        const email = `${crypto.randomUUID()}@invalid.example.com`
        fake.rejected.add(email)
        return { channel: 'email', email }
      },
      delivered: (address: Address) => fake.emails.filter((e) => e.to.includes(emailOf(address))).length,
      faults: fake.faults,
      slowMs: SLOW_MS,
      cleanup: () => fake.close(),
    }
  },
  { providerFaults: true },
)

describeTransportConformance(
  'Twilio (Messages API over fetch against a local Twilio API)',
  async () => {
    const fake = startFakeTwilio()
    return {
      transport: createTwilioTransport({
        accountSid: fake.accountSid,
        authToken: fake.authToken,
        from: '+15005550006',
        baseUrl: fake.url,
        timeoutMs: TIMEOUT_MS,
      }),
      address: () => ({ channel: 'sms', phone: nextPhone() }),
      invalidAddress: () => ({ channel: 'sms', phone: '+0' }),
      delivered: (address: Address) =>
        fake.messages.filter((m) => address.channel === 'sms' && m.to === address.phone).length,
      faults: fake.faults,
      slowMs: SLOW_MS,
      cleanup: () => fake.close(),
    }
  },
  { providerFaults: true },
)

describeTransportConformance(
  'Web Push (web-push with VAPID against a local push service over HTTPS)',
  async () => {
    const fake = startFakePushService()
    const vapid = webpush.generateVAPIDKeys()
    return {
      transport: createWebPushTransport({
        vapidSubject: 'mailto:ops@flotilla.test',
        vapidPublicKey: vapid.publicKey,
        vapidPrivateKey: vapid.privateKey,
        timeoutMs: TIMEOUT_MS,
        ca: fake.ca,
        // The local push service listens on 127.0.0.1.
        allowPrivateEndpoints: true,
      }),
      address: () => ({ channel: 'push', subscription: fake.subscription() }),
      invalidAddress() {
        const subscription = fake.subscription()
        fake.gone.add(subscription.endpoint)
        return { channel: 'push', subscription }
      },
      delivered: (address: Address) =>
        fake.pushes.filter((p) => address.channel === 'push' && p.endpoint === address.subscription.endpoint)
          .length,
      faults: fake.faults,
      slowMs: SLOW_MS,
      cleanup: () => fake.close(),
    }
  },
  { providerFaults: true },
)
