/**
 * SMS through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic
 * auth) with plain fetch. Twilio has no idempotency key for creating messages, so this transport is not
 * idempotent: an unknown outcome is never retried (see `Transport.idempotent`).
 */
import { kindOfStatus, retryAfterMs, type Transport, TransportError } from './types.ts'

export interface TwilioTransportOptions {
  readonly accountSid: string
  readonly authToken: string
  /** A Twilio number (E.164) or a Messaging Service sid (`MG…`). */
  readonly from: string
  /** @defaultValue 'https://api.twilio.com' */
  readonly baseUrl?: string
  /** @defaultValue 10000 */
  readonly timeoutMs?: number
  /** Delivery status callbacks, when set. */
  readonly statusCallbackUrl?: string
}

interface TwilioError {
  readonly code?: number
  readonly message?: string
}

// Twilio error codes that pass with time (rate limits, queue full).
const TRANSIENT_CODES = new Set([20429, 30001, 20503])

/** Creates the Twilio SMS transport. */
export const createTwilioTransport = (options: TwilioTransportOptions): Transport => {
  const base = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '')
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    channel: 'sms',
    provider: 'twilio',
    idempotent: false,
    async send({ address, message }) {
      if (address.channel !== 'sms' || message.channel !== 'sms')
        throw new TransportError('permanent', 'CHANNEL_MISMATCH', 'the Twilio transport sends SMS only')
      const form = new URLSearchParams({ To: address.phone, Body: message.text })
      form.set(options.from.startsWith('MG') ? 'MessagingServiceSid' : 'From', options.from)
      if (options.statusCallbackUrl) form.set('StatusCallback', options.statusCallbackUrl)
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form,
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError'
        throw new TransportError(
          'transient',
          timedOut ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNREACHABLE',
          timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message,
          { cause: error },
        )
      }
      const body = (await response.json().catch(() => ({}))) as TwilioError & { sid?: string }
      if (response.ok && typeof body.sid === 'string') return { providerMessageId: body.sid }
      const kind =
        body.code !== undefined && TRANSIENT_CODES.has(body.code)
          ? 'transient'
          : kindOfStatus(response.status)
      const wait = retryAfterMs(response.headers.get('retry-after'))
      throw new TransportError(
        response.ok ? 'transient' : kind,
        `TWILIO_${body.code ?? response.status}`,
        `Twilio answered ${response.status}: ${body.message ?? response.statusText}`,
        { status: response.status, ...(wait === undefined ? {} : { retryAfterMs: wait }) },
      )
    },
  }
}
