/** The monolith's typed publisher: build events from the contract and publish them, retrying with the same id. */
import {
  type AnyEvent,
  ContractError,
  type CreateEventOptions,
  createCustomEvent,
  createEvent,
  type EventOf,
  type EventType,
  type KnownEventArgs,
  type LatestEventArgs,
  type OpaqueEvent,
  type VersionOf,
} from '@flotilla/contracts'
import type { Publisher } from '@flotilla/streams'

/** Options for a publish; `source` defaults to the publisher's. */
export type EmitOptions = Omit<CreateEventOptions, 'source'> & { readonly source?: string }

/** Options for a catalogued event at a listed version other than the latest. */
export type EmitKnownOptions<V extends number> = EmitOptions & { readonly version: V }

/** Builds a catalogued event: the latest version, or the listed `version` given (see `CreateEvent`). */
export interface BuildEvent {
  <T extends EventType>(...args: LatestEventArgs<T, EmitOptions>): EventOf<T>
  <T extends EventType, V extends VersionOf<T>>(...args: KnownEventArgs<T, V, EmitOptions>): EventOf<T, V>
}

/** Builds a catalogued event and publishes it: the latest version, or the listed `version` given. */
export interface EmitEvent {
  <T extends EventType>(...args: LatestEventArgs<T, EmitOptions>): Promise<Published>
  <T extends EventType, V extends VersionOf<T>>(
    ...args: KnownEventArgs<T, V, EmitOptions>
  ): Promise<Published>
}

export interface EventPublisherOptions {
  /** The stream publisher (`createPublisher` from `@flotilla/streams`, on a `producer` connection). */
  readonly publisher: Publisher
  /** The `source` of events built here, e.g. `monolith`. */
  readonly source: string
  /** Retries after the first failed attempt. @defaultValue 3 */
  readonly retries?: number
  /** First backoff; doubles per retry, fully jittered. @defaultValue 50 */
  readonly backoffMs?: number
  /**
   * Give up once this much time has passed since the first attempt. A dead Redis refuses at once (the producer
   * connection has no offline queue), so this mostly bounds retries after timeouts. @defaultValue 5000
   */
  readonly deadlineMs?: number
  /** Called before each retry (metrics, logs, tests). */
  readonly onRetry?: (event: AnyEvent, attempt: number, error: unknown) => void
}

/** What a publish returns: the envelope id (the idempotency key) and the stream id of the entry that counted. */
export interface Published {
  readonly id: string
  readonly streamId: string
}

export interface EventPublisher {
  /** Publishes a built event; a retry re-sends the very same event (same `id`), so consumers drop the duplicate. */
  publish(event: AnyEvent): Promise<Published>
  /** Builds a catalogued event (payload checked at compile time, at the latest or the given version) and publishes it. */
  readonly emit: EmitEvent
  /** Builds and publishes a domain event the catalogue does not know, such as `order.placed`. */
  emitCustom(
    type: string,
    payload: Record<string, unknown>,
    options?: EmitOptions & { readonly version?: number },
  ): Promise<Published>
  /** The same builders without publishing, for the outbox (`enqueue(tx, publisher.build(...))`). */
  readonly build: BuildEvent
  buildCustom(
    type: string,
    payload: Record<string, unknown>,
    options?: EmitOptions & { readonly version?: number },
  ): OpaqueEvent
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Creates the typed publisher the monolith uses for events that need no transaction (for those, use the outbox).
 * @example
 * const events = createEventPublisher({ publisher: createPublisher({ redis, stream: 'events' }), source: 'monolith' })
 * await events.emit('user.registered', { userId, email }, { correlationId })
 */
export const createEventPublisher = (options: EventPublisherOptions): EventPublisher => {
  const { publisher, source, retries = 3, backoffMs = 50, deadlineMs = 5000, onRetry } = options
  const withSource = <O extends EmitOptions>(o: O | undefined) => ({ ...o, source: o?.source ?? source })

  const publish = async (event: AnyEvent): Promise<Published> => {
    const started = Date.now()
    for (let attempt = 0; ; attempt++) {
      try {
        return { id: event.id, streamId: await publisher.publish(event) }
      } catch (error) {
        // A contract violation will not get better by trying again.
        if (error instanceof ContractError) throw error
        const wait = Math.random() * backoffMs * 2 ** attempt
        if (attempt >= retries || Date.now() - started + wait > deadlineMs) throw error
        onRetry?.(event, attempt + 1, error)
        await delay(wait)
      }
    }
  }

  // The typed signatures are BuildEvent's; underneath, any type and version goes to createEvent.
  const createAny = createEvent as (type: EventType, payload: unknown, o: CreateEventOptions) => AnyEvent
  const buildAny = (type: EventType, payload: unknown, o?: EmitOptions & { readonly version?: number }) =>
    createAny(type, payload, withSource(o))
  const build = buildAny as BuildEvent
  const buildCustom = (
    type: string,
    payload: Record<string, unknown>,
    o?: EmitOptions & { readonly version?: number },
  ) => createCustomEvent(type, payload, withSource(o))

  return {
    publish,
    emit: ((type: EventType, payload: unknown, o?: EmitOptions & { readonly version?: number }) =>
      publish(buildAny(type, payload, o))) as EmitEvent,
    emitCustom: (type, payload, o) => publish(buildCustom(type, payload, o)),
    build,
    buildCustom,
  }
}
