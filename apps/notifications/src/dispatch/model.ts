/** A request to notify one user: what every rule turns its event into. */
import type { PushSubscription } from '@flotilla/contracts'
import type { ChannelName } from '../templates/model.ts'

export interface NotificationRequest {
  /** The triggering event's id: part of every delivery key. */
  readonly requestId: string
  readonly eventType: string
  readonly tenantId?: string | undefined
  readonly correlationId?: string | undefined
  /** W3C trace context of the triggering event. */
  readonly traceparent?: string | undefined
  readonly template: string
  readonly recipient: {
    readonly userId: string
    readonly email?: string | undefined
    readonly phone?: string | undefined
    readonly pushSubscriptions?: readonly (typeof PushSubscription.static)[] | undefined
    readonly locale?: string | undefined
    readonly timezone?: string | undefined
  }
  /** Channels that must be attempted (a missing address is a recorded failure). @defaultValue the template's */
  readonly channels?: readonly ChannelName[] | undefined
  /** Channels used only when an address is known ("SMS when a phone is known"). */
  readonly optionalChannels?: readonly ChannelName[] | undefined
  /** @defaultValue the template's */
  readonly category?: string | undefined
  /** Critical requests ignore opt-outs. @defaultValue the template's */
  readonly critical?: boolean | undefined
  readonly data: Readonly<Record<string, unknown>>
  /** The requester's key for this request (cancel names it). @defaultValue the event id */
  readonly idempotencyKey?: string | undefined
  /** When the triggering event occurred (ISO): what `delaySeconds` and the 30-day bound count from. */
  readonly occurredAt?: string | undefined
  /** Send at this time (ISO), not before. */
  readonly sendAt?: string | undefined
  /** Send this long after the event occurred. */
  readonly delaySeconds?: number | undefined
}
