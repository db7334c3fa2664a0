/**
 * The catalogue of known event types: one payload schema and version per type, and who produces it. Who consumes
 * each type is not written here: `consumersOf(type)` reads it from the service list (`services.ts`).
 */
import type { Static, TSchema } from '@sinclair/typebox'
import { AuditCheckpoint } from './events/audit.ts'
import { AuthDeviceAdded, AuthRefreshReused, AuthSessionCreated, AuthSessionRevoked } from './events/auth.ts'
import {
  NotificationBounced,
  NotificationDelivered,
  NotificationFailed,
  NotificationRequested,
  NotificationSent,
} from './events/notification.ts'
import {
  UserDeleted,
  UserLoginFailed,
  UserLoginSucceeded,
  UserPasswordChanged,
  UserRegistered,
} from './events/user.ts'

export interface CatalogEntry<P extends TSchema = TSchema> {
  readonly version: number
  readonly payload: P
  readonly description: string
  readonly producer: string
}

const entry = <P extends TSchema>(e: CatalogEntry<P>) => e

export const eventCatalog = {
  'user.registered': entry({
    version: 1,
    payload: UserRegistered,
    description: 'A user account was created in the monolith.',
    producer: 'monolith',
  }),
  'user.login.succeeded': entry({
    version: 1,
    payload: UserLoginSucceeded,
    description: 'A user proved their credentials.',
    producer: 'monolith',
  }),
  'user.login.failed': entry({
    version: 1,
    payload: UserLoginFailed,
    description: 'A sign-in attempt was refused.',
    producer: 'monolith',
  }),
  'user.password.changed': entry({
    version: 1,
    payload: UserPasswordChanged,
    description: "A user's password changed; every session of theirs must end.",
    producer: 'monolith',
  }),
  'user.deleted': entry({
    version: 1,
    payload: UserDeleted,
    description: 'A user account was deleted; every session of theirs must end.',
    producer: 'monolith',
  }),
  'auth.session.created': entry({
    version: 1,
    payload: AuthSessionCreated,
    description: 'A session and its refresh-token family were created.',
    producer: 'auth',
  }),
  'auth.session.revoked': entry({
    version: 1,
    payload: AuthSessionRevoked,
    description: 'A session ended before its time, with the reason.',
    producer: 'auth',
  }),
  'auth.device.added': entry({
    version: 1,
    payload: AuthDeviceAdded,
    description: 'A user signed in from a device not seen before.',
    producer: 'auth',
  }),
  'auth.refresh.reused': entry({
    version: 1,
    payload: AuthRefreshReused,
    description: 'A spent refresh token was presented again; its whole family was revoked.',
    producer: 'auth',
  }),
  'notification.requested': entry({
    version: 1,
    payload: NotificationRequested,
    description: 'Someone asked for a user to be notified with a template.',
    producer: 'monolith',
  }),
  'notification.sent': entry({
    version: 1,
    payload: NotificationSent,
    description: 'A provider accepted one delivery.',
    producer: 'notifications',
  }),
  'notification.failed': entry({
    version: 1,
    payload: NotificationFailed,
    description: 'A delivery failed for good.',
    producer: 'notifications',
  }),
  'notification.delivered': entry({
    version: 1,
    payload: NotificationDelivered,
    description: 'A provider reported a delivery reached the recipient.',
    producer: 'notifications',
  }),
  'notification.bounced': entry({
    version: 1,
    payload: NotificationBounced,
    description: 'A provider reported a bounce or a complaint.',
    producer: 'notifications',
  }),
  'audit.checkpoint': entry({
    version: 1,
    payload: AuditCheckpoint,
    description: 'The head of an audit chain, anchored outside the audit store.',
    producer: 'audit',
  }),
} as const

export type EventCatalog = typeof eventCatalog
/** Every known event type. */
export type EventType = keyof EventCatalog
/** The payload of a known event type. */
export type PayloadOf<T extends EventType> = Static<EventCatalog[T]['payload']>

export const EVENT_TYPES = Object.keys(eventCatalog) as EventType[]

export const isKnownType = (type: string): type is EventType => Object.hasOwn(eventCatalog, type)
