/** Building events: fills id (time-ordered UUIDv7), version, source and occurredAt. */
import { v7 as uuidv7 } from 'uuid'
import { type EventType, latestVersionOf, type PayloadOf, type VersionOf } from './catalog.ts'
import type { EnvelopeContext, EventOf, OpaqueEvent } from './types.ts'

export interface CreateEventOptions extends EnvelopeContext {
  /** The producing service, e.g. `auth` or `monolith`. */
  readonly source: string
  /** Reuse an id (a retried publish must keep its id). @defaultValue a new UUIDv7 */
  readonly id?: string
  /** @defaultValue now */
  readonly occurredAt?: Date | string
}

const envelope = (type: string, version: number, payload: unknown, o: CreateEventOptions) => {
  const occurredAt =
    o.occurredAt === undefined
      ? new Date().toISOString()
      : typeof o.occurredAt === 'string'
        ? o.occurredAt
        : o.occurredAt.toISOString()
  // Only set optional fields that are present: undefined keys would not survive a JSON round trip.
  const event: Record<string, unknown> = {
    id: o.id ?? uuidv7(),
    type,
    version,
    source: o.source,
    occurredAt,
  }
  for (const key of [
    'tenantId',
    'actor',
    'subject',
    'correlationId',
    'causationId',
    'traceparent',
  ] as const) {
    if (o[key] !== undefined) event[key] = o[key]
  }
  event.payload = payload
  return event
}

/** Options of `createEvent` for one listed version other than the latest (a producer not yet moved to it). */
export type CreateKnownEventOptions<V extends number> = CreateEventOptions & {
  /** Build this listed version instead of the latest. */
  readonly version: V
}

/**
 * The latest version unless `version` is given. Two signatures rather than one with a defaulted version: a
 * defaulted type parameter is still inferred from the expected return type (`publish(createEvent(…))` would
 * widen it to every version and let an old payload through as the latest).
 */
export interface CreateEvent {
  <T extends EventType>(...args: LatestEventArgs<T, CreateEventOptions>): EventOf<T>
  <T extends EventType, V extends VersionOf<T>>(
    ...args: KnownEventArgs<T, V, CreateEventOptions>
  ): EventOf<T, V>
}

/** The options argument: optional when every option is (the SDK's `source` has a default), else required. */
type OptionsArg<O> = Partial<O> extends O ? [options?: O] : [options: O]

/**
 * The arguments of a call that builds a catalogued event at its latest version, with options `O` (`createEvent`,
 * and the SDK's `build` and `emit`, whose overloads differ only in what they return).
 */
export type LatestEventArgs<T extends EventType, O> = [
  type: T,
  payload: PayloadOf<T>,
  ...OptionsArg<O & { readonly version?: undefined }>,
]

/** The same at listed version `V`, which `options.version` names. */
export type KnownEventArgs<T extends EventType, V extends VersionOf<T>, O> = [
  type: T,
  payload: PayloadOf<T, NoInfer<V>>,
  options: O & { readonly version: V },
]

/**
 * Creates an event of a known type; the payload is checked at compile time against the catalogue, at the latest
 * version unless `version` names another listed one.
 * @example createEvent('user.registered', { userId: 'u_1', email: 'a@example.com' }, { source: 'monolith' })
 * @example createEvent('user.password.changed', { userId: 'u_1', via: 'reset' }, { source: 'monolith', version: 1 })
 */
export const createEvent: CreateEvent = (
  type: EventType,
  payload: unknown,
  options: CreateEventOptions & { readonly version?: number | undefined },
) => {
  const { version, ...rest } = options
  return envelope(type, version ?? latestVersionOf(type), payload, rest) as never
}

/**
 * Creates an event of a type the catalogue does not know (a domain event such as `order.placed`);
 * audit and analytics accept it as an opaque payload.
 */
export const createCustomEvent = (
  type: string,
  payload: Record<string, unknown>,
  options: CreateEventOptions & { readonly version?: number | undefined },
): OpaqueEvent => envelope(type, options.version ?? 1, payload, options) as unknown as OpaqueEvent
