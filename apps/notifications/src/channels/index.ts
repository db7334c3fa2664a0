/** Picks a transport per channel: the real provider when configured, the local outbox otherwise. */
import type { Db } from '../db/client.ts'
import { createOutboxTransport } from '../outbox/store.ts'
import type { ChannelName } from '../templates/model.ts'
import type { Resolve } from './public-agent.ts'
import { createResendTransport } from './resend.ts'
import { createTwilioTransport } from './twilio.ts'
import type { Transport } from './types.ts'
import { createWebPushTransport } from './web-push.ts'

export interface TransportSettings {
  readonly timeoutMs: number
  readonly emailFrom: string
  readonly resend?: { readonly apiKey: string; readonly baseUrl?: string }
  readonly twilio?: {
    readonly accountSid: string
    readonly authToken: string
    readonly from: string
    readonly baseUrl?: string
  }
  readonly webPush?: {
    readonly vapidSubject: string
    readonly vapidPublicKey: string
    readonly vapidPrivateKey: string
    /** Certificates to trust instead of the system's (PEM): tests' local push service. */
    readonly ca?: string
    /** Tests with a local push service only (see the Web Push transport). */
    readonly allowPrivateEndpoints?: boolean
    /** How endpoint host names resolve (tests map a name to an address). */
    readonly resolve?: Resolve
  }
}

/** One transport per channel. */
export const createTransports = (db: Db, s: TransportSettings): Record<ChannelName, Transport> => ({
  email: s.resend
    ? createResendTransport({ ...s.resend, from: s.emailFrom, timeoutMs: s.timeoutMs })
    : createOutboxTransport(db, 'email'),
  sms: s.twilio
    ? createTwilioTransport({ ...s.twilio, timeoutMs: s.timeoutMs })
    : createOutboxTransport(db, 'sms'),
  push: s.webPush
    ? createWebPushTransport({ ...s.webPush, timeoutMs: s.timeoutMs })
    : createOutboxTransport(db, 'push'),
})
