/**
 * Email through the Resend SDK. `baseUrl` comes from config (tests point the real SDK at a local server).
 * Every send carries `Idempotency-Key`; Resend answers a repeated key with the first result for 24 h.
 */
import type { Resend } from 'resend'
import { kindOfStatus, retryAfterMs, type Transport, TransportError } from './types.ts'

export interface ResendTransportOptions {
  readonly apiKey: string
  /** @defaultValue 'https://api.resend.com' */
  readonly baseUrl?: string
  /** `Name <address>` the emails come from. */
  readonly from: string
  /** Per request; a slower answer is a transient failure (retried with the same key). @defaultValue 10000 */
  readonly timeoutMs?: number
}

const RESEND_KEY_WINDOW_MS = 24 * 3600 * 1000

// Resend error names that never pass with time (the rest are classified by status).
const PERMANENT = new Set([
  'invalid_idempotent_request',
  'invalid_idempotency_key',
  'validation_error',
  'missing_required_field',
  'invalid_from_address',
  'invalid_parameter',
  'invalid_attachment',
  'invalid_api_key',
  'missing_api_key',
  'restricted_api_key',
  'invalid_access',
  'not_found',
  'method_not_allowed',
  'security_error',
])
const TRANSIENT = new Set([
  'concurrent_idempotent_requests',
  'rate_limit_exceeded',
  'application_error',
  'internal_server_error',
  // Quotas reset with time; retrying later is right, the bound on retries keeps it finite.
  'daily_quota_exceeded',
  'monthly_quota_exceeded',
])

/** Creates the Resend email transport. */
export const createResendTransport = (options: ResendTransportOptions): Transport => {
  // The SDK loads at the first send: a service that never sends through Resend does not hold it in memory.
  let client: Promise<Resend> | undefined
  const clientOf = () =>
    (client ??= import('resend').then(
      ({ Resend }) => new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined),
    ))
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    channel: 'email',
    provider: 'resend',
    idempotent: true,
    idempotencyWindowMs: RESEND_KEY_WINDOW_MS,
    async send({ address, message, idempotencyKey }) {
      if (address.channel !== 'email' || message.channel !== 'email')
        throw new TransportError('permanent', 'CHANNEL_MISMATCH', 'the Resend transport sends email only')
      const signal = AbortSignal.timeout(timeoutMs)
      const result = await (await clientOf()).emails.send(
        {
          from: options.from,
          to: [address.email],
          subject: message.subject,
          html: message.html,
          text: message.text,
        },
        { idempotencyKey, signal },
      )
      if (result.error === null) return { providerMessageId: result.data.id }
      const { name, message: text, statusCode } = result.error
      const code = `RESEND_${String(name).toUpperCase()}`
      // The SDK reports network errors and timeouts with statusCode null.
      if (statusCode === null || statusCode === undefined) {
        const what = signal.aborted ? `no answer within ${timeoutMs} ms` : text
        throw new TransportError(
          'transient',
          signal.aborted ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNREACHABLE',
          what,
        )
      }
      const kind = PERMANENT.has(name)
        ? 'permanent'
        : TRANSIENT.has(name)
          ? 'transient'
          : kindOfStatus(statusCode)
      const wait = retryAfterMs(result.headers?.['retry-after'])
      throw new TransportError(kind, code, `Resend answered ${statusCode}: ${text}`, {
        status: statusCode,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      })
    },
  }
}
