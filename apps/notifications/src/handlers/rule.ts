/** A rule: how one consumed event type becomes a notification request (and what it teaches the contact directory). */
import type { EventOf, EventType } from '@flotilla/contracts'
import type { ContactInput, TimedSettings } from '../contacts/store.ts'
import type { NotificationRequest } from '../dispatch/model.ts'

export interface Rule<T extends EventType> {
  readonly type: T
  /** Contact details the event carries (fed into the recipient directory before dispatching). */
  contact?(event: EventOf<T>): ContactInput | undefined
  /** Settings the event carries, stamped with its time: applied only over older ones (after `contact`). */
  settings?(event: EventOf<T>): TimedSettings | undefined
  /** The request to dispatch, or undefined when this event asks for nothing. */
  request(event: EventOf<T>): NotificationRequest | undefined
}

/** Envelope fields every request carries over from its event. */
export const fromEnvelope = (event: EventOf<EventType>) => ({
  requestId: event.id,
  eventType: event.type,
  tenantId: event.tenantId,
  correlationId: event.correlationId ?? event.id,
  traceparent: event.traceparent,
  occurredAt: event.occurredAt,
})

/** An email with `template` to the user the event is about (the address comes from the directory). */
export const emailToItsUser = (
  event: EventOf<EventType> & { readonly payload: { readonly userId: string } },
  template: string,
): Omit<NotificationRequest, 'data'> => ({
  ...fromEnvelope(event),
  template,
  recipient: { userId: event.payload.userId },
  channels: ['email'],
})

/**
 * The time zone and quiet hours an event carries, stamped with its `occurredAt`; undefined when it carries
 * neither.
 */
export const settingsFrom = (
  event: EventOf<EventType>,
  source: { userId: string; timezone?: string | undefined; quietHours?: TimedSettings['quietHours'] },
): TimedSettings | undefined =>
  source.timezone === undefined && source.quietHours === undefined
    ? undefined
    : {
        userId: source.userId,
        at: Date.parse(event.occurredAt),
        ...(source.timezone === undefined ? {} : { timezone: source.timezone }),
        ...(source.quietHours === undefined ? {} : { quietHours: source.quietHours }),
      }

/** The contact fields an event carries about its user (a payload or its recipient), and nothing else. */
export const contactFrom = (source: ContactInput): ContactInput => ({
  userId: source.userId,
  email: source.email,
  phone: source.phone,
  locale: source.locale,
  timezone: source.timezone,
})
