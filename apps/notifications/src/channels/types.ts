/** One interface for every channel transport (Resend, the local outbox, Twilio, Web Push). */
import type { PushSubscription } from '@flotilla/contracts'
import type { InStatement, ResultSet } from '@libsql/client'
import type { ChannelName, RenderedMessage } from '../templates/model.ts'

/** Where one delivery goes. */
export type Address =
  | { readonly channel: 'email'; readonly email: string }
  | { readonly channel: 'sms'; readonly phone: string }
  | { readonly channel: 'push'; readonly subscription: typeof PushSubscription.static }

/** One send: the rendered message, its address, and the key that makes a retry safe. */
export interface SendRequest {
  readonly address: Address
  readonly message: RenderedMessage
  /** Derived from the delivery key; the same on every retry of this delivery. */
  readonly idempotencyKey: string
}

export interface SendResult {
  readonly providerMessageId: string
}

/** Statements run inside an open transaction of the delivery database (libSQL's `Transaction`, or the PostgreSQL one). */
export interface SqlExecutor {
  execute(statement: InStatement): Promise<ResultSet>
  batch(statements: InStatement[]): Promise<ResultSet[]>
}

/** A transport for one channel. Failures are thrown as `TransportError`. */
export interface Transport {
  readonly channel: ChannelName
  /** Provider name, recorded per delivery and used as the rate-limit key (`resend`, `outbox`, `twilio`, `web-push`). */
  readonly provider: string
  /**
   * Whether sending again with the same idempotency key can never produce a second message (Resend keeps
   * keys 24 h; the outbox keeps them forever). When false, a send whose outcome is unknown (a crash mid-send)
   * is not retried: the delivery is marked failed (`OUTCOME_UNKNOWN`) rather than risk a duplicate.
   */
  readonly idempotent: boolean
  /** How long a key protects a retry, when the provider forgets keys (Resend: 24 h). */
  readonly idempotencyWindowMs?: number
  send(request: SendRequest): Promise<SendResult>
  /**
   * Sends many at once where the transport can do it in one step (the local outbox: one statement); resolves to
   * one result or `TransportError` per request, in order. Throwing fails them all alike. Without it, sends run
   * one by one (concurrently).
   */
  sendBatch?(requests: readonly SendRequest[]): Promise<(SendResult | TransportError)[]>
  /**
   * Set by a transport whose messages are rows of the delivery database itself (the local outbox): `sendBatch`
   * run inside the write transaction that claims the deliveries and records them sent, so the messages, their
   * deliveries' `sent` and the attempts commit together (one commit instead of three; a crash keeps all or none).
   */
  sendBatchWithin?(
    tx: SqlExecutor,
    requests: readonly SendRequest[],
  ): Promise<(SendResult | TransportError)[]>
  close?(): Promise<void> | void
}

/** Whether a failure can pass with time (`transient`) or never will (`permanent`). */
export type FailureKind = 'transient' | 'permanent'

/** A transport failure, classified: what happens next depends on `kind`, and `retryAfterMs` when known. */
export class TransportError extends Error {
  override readonly name = 'TransportError'
  readonly kind: FailureKind
  readonly code: string
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined

  constructor(
    kind: FailureKind,
    code: string,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
    this.code = code
    this.status = options.status
    this.retryAfterMs = options.retryAfterMs
  }
}

/** Reads `Retry-After` (seconds or an HTTP date) into milliseconds. */
export const retryAfterMs = (value: string | null | undefined, now = Date.now()): number | undefined => {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The usual HTTP classification: 408/425/429/5xx pass with time; other 4xx never will. */
export const kindOfStatus = (status: number): FailureKind =>
  status === 408 || status === 425 || status === 429 || status >= 500 ? 'transient' : 'permanent'

/** The part of an address that makes a delivery unique (with the event id and channel). */
export const recipientKey = (address: Address): string => {
  if (address.channel === 'email') return address.email.toLowerCase()
  if (address.channel === 'sms') return address.phone
  return address.subscription.endpoint
}
