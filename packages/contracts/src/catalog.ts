/**
 * The catalogue of known event types: each type's versions (one payload schema each, with the upcaster from the
 * version before), and who produces it. Who consumes each type is not written here: `consumersOf(type)` reads it
 * from the service list (`services.ts`). Versions are numbered 1, 2, 3… without gaps; the highest is the latest.
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
  UserPasswordChangedV1,
  UserPasswordChangedV2,
  UserProfileUpdated,
  UserRegistered,
  userPasswordChangedV1ToV2,
} from './events/user.ts'

/** One version of a type's payload. Every version but 1 carries the pure upcaster from the version before it. */
export interface VersionEntry<P extends TSchema = TSchema> {
  readonly payload: P
  /** From the previous version's payload to this one's; pure (no I/O, no clock), so replays give the same result. */
  readonly upcast?: (previous: never) => Static<P>
}

export interface CatalogEntry<
  V extends Readonly<Record<number, VersionEntry>> = Readonly<Record<number, VersionEntry>>,
> {
  readonly versions: V
  readonly description: string
  readonly producer: string
}

const entry = <V extends Readonly<Record<number, VersionEntry>>>(e: CatalogEntry<V>) => e

export const eventCatalog = {
  'user.registered': entry({
    versions: { 1: { payload: UserRegistered } },
    description: 'A user account was created in the monolith.',
    producer: 'monolith',
  }),
  'user.profile.updated': entry({
    versions: { 1: { payload: UserProfileUpdated } },
    description: "A user's notification settings changed: time zone, quiet hours.",
    producer: 'monolith',
  }),
  'user.login.succeeded': entry({
    versions: { 1: { payload: UserLoginSucceeded } },
    description: 'A user proved their credentials.',
    producer: 'monolith',
  }),
  'user.login.failed': entry({
    versions: { 1: { payload: UserLoginFailed } },
    description: 'A sign-in attempt was refused.',
    producer: 'monolith',
  }),
  'user.password.changed': entry({
    versions: {
      1: { payload: UserPasswordChangedV1 },
      2: { payload: UserPasswordChangedV2, upcast: userPasswordChangedV1ToV2 },
    },
    description: "A user's password changed; their sessions must end (v2: but the one they changed it from).",
    producer: 'monolith',
  }),
  'user.deleted': entry({
    versions: { 1: { payload: UserDeleted } },
    description: 'A user account was deleted; every session of theirs must end.',
    producer: 'monolith',
  }),
  'auth.session.created': entry({
    versions: { 1: { payload: AuthSessionCreated } },
    description: 'A session and its refresh-token family were created.',
    producer: 'auth',
  }),
  'auth.session.revoked': entry({
    versions: { 1: { payload: AuthSessionRevoked } },
    description: 'A session ended before its time, with the reason.',
    producer: 'auth',
  }),
  'auth.device.added': entry({
    versions: { 1: { payload: AuthDeviceAdded } },
    description: 'A user signed in from a device not seen before.',
    producer: 'auth',
  }),
  'auth.refresh.reused': entry({
    versions: { 1: { payload: AuthRefreshReused } },
    description: 'A spent refresh token was presented again; its whole family was revoked.',
    producer: 'auth',
  }),
  'notification.requested': entry({
    versions: { 1: { payload: NotificationRequested } },
    description: 'Someone asked for a user to be notified with a template.',
    producer: 'monolith',
  }),
  'notification.sent': entry({
    versions: { 1: { payload: NotificationSent } },
    description: 'A provider accepted one delivery.',
    producer: 'notifications',
  }),
  'notification.failed': entry({
    versions: { 1: { payload: NotificationFailed } },
    description: 'A delivery failed for good.',
    producer: 'notifications',
  }),
  'notification.delivered': entry({
    versions: { 1: { payload: NotificationDelivered } },
    description: 'A provider reported a delivery reached the recipient.',
    producer: 'notifications',
  }),
  'notification.bounced': entry({
    versions: { 1: { payload: NotificationBounced } },
    description: 'A provider reported a bounce or a complaint.',
    producer: 'notifications',
  }),
  'audit.checkpoint': entry({
    versions: { 1: { payload: AuditCheckpoint } },
    description: 'The head of an audit chain, anchored outside the audit store.',
    producer: 'audit',
  }),
} as const

export type EventCatalog = typeof eventCatalog
/** Every known event type. */
export type EventType = keyof EventCatalog
/** The versions of a known event type (`1 | 2`). */
export type VersionOf<T extends EventType> = keyof EventCatalog[T]['versions'] & number
// N → N + 1, for finding the latest version at the type level (versions run 1, 2, 3… without gaps).
type Successor = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
/** The latest version of a known event type: what `createEvent` builds by default. */
export type LatestVersionOf<T extends EventType> = {
  [V in VersionOf<T>]: V extends keyof Successor ? (Successor[V] extends VersionOf<T> ? never : V) : V
}[VersionOf<T>]
/** The payload of a known event type at one version (the latest by default). */
export type PayloadOf<T extends EventType, V extends VersionOf<T> = LatestVersionOf<T>> = Static<
  EventCatalog[T]['versions'][V] extends VersionEntry<infer P> ? P : never
>

export const EVENT_TYPES = Object.keys(eventCatalog) as EventType[]

export const isKnownType = (type: string): type is EventType => Object.hasOwn(eventCatalog, type)

const versionsOf = (type: EventType): Readonly<Record<number, VersionEntry>> => eventCatalog[type].versions

/** The versions of a known type, oldest first. */
export const versionsOfType = (type: EventType): number[] =>
  Object.keys(versionsOf(type))
    .map(Number)
    .sort((a, b) => a - b)

const LATEST = new Map(EVENT_TYPES.map((type) => [type, Math.max(...versionsOfType(type))]))

/** The latest version of a known type. */
export const latestVersionOf = (type: EventType): number => LATEST.get(type) ?? 1

/** The catalogue entry of one version of a known type, or undefined when the catalogue does not list it. */
export const versionEntryOf = (type: EventType, version: unknown): VersionEntry | undefined =>
  typeof version === 'number' && Object.hasOwn(versionsOf(type), version)
    ? versionsOf(type)[version]
    : undefined

/** Whether `type` is catalogued and lists `version`. */
export const isKnownVersion = (type: string, version: unknown): boolean =>
  isKnownType(type) && versionEntryOf(type, version) !== undefined
