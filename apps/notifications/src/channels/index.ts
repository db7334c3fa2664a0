/** Picks a transport per channel: the real provider when configured, the local outbox otherwise. */
import type { Db } from '../db/client.ts'
import { createOutboxTransport } from '../outbox/store.ts'
import type { ChannelName } from '../templates/model.ts'
import type { Resolve } from './public-agent.ts'
import { createResendTransport } from './resend.ts'
import { createTwilioTransport } from './twilio.ts'
import type { Transport } from './types.ts'
import { createWebPushTransport } from './web-push.ts'

/** The providers each channel can use, by name. */
export const CHANNEL_PROVIDERS = {
  email: ['resend', 'outbox'],
  sms: ['twilio', 'outbox'],
  push: ['web-push', 'outbox'],
} as const satisfies Record<ChannelName, readonly string[]>

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
  /**
   * The ordered providers of each channel (`NOTIFICATIONS_<CHANNEL>_PROVIDERS`): the first sends, the next takes
   * over when it is down. @defaultValue the configured provider, else the local outbox
   */
  readonly providers?: Partial<Record<ChannelName, readonly string[]>>
}

/** Ordered transports per channel: the first is tried first, each next one when the previous is down. */
export type TransportChains = Readonly<Record<ChannelName, readonly Transport[]>>

/** One transport chain per channel. */
export const createTransports = (db: Db, s: TransportSettings): Record<ChannelName, Transport[]> => {
  const build = (channel: ChannelName, provider: string): Transport => {
    if (provider === 'resend' && s.resend)
      return createResendTransport({ ...s.resend, from: s.emailFrom, timeoutMs: s.timeoutMs })
    if (provider === 'twilio' && s.twilio)
      return createTwilioTransport({ ...s.twilio, timeoutMs: s.timeoutMs })
    if (provider === 'web-push' && s.webPush)
      return createWebPushTransport({ ...s.webPush, timeoutMs: s.timeoutMs })
    if (provider === 'outbox') return createOutboxTransport(db, channel)
    // config.ts refuses this combination; a programmatic caller gets a clear error.
    throw new Error(`provider ${provider} cannot send ${channel} (unknown or not configured)`)
  }
  const configured: Record<ChannelName, string | undefined> = {
    email: s.resend ? 'resend' : undefined,
    sms: s.twilio ? 'twilio' : undefined,
    push: s.webPush ? 'web-push' : undefined,
  }
  const chainOf = (channel: ChannelName) =>
    (s.providers?.[channel] ?? [configured[channel] ?? 'outbox']).map((p) => build(channel, p))
  return { email: chainOf('email'), sms: chainOf('sms'), push: chainOf('push') }
}
