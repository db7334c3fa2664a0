/**
 * A service declaration: what one Flotilla service is — its name, config, domain, routes, subscription, jobs,
 * readiness checks, feature flags and what it closes — with none of the wiring. `startService` / `runService`
 * (runner.ts) turn any declaration into a running process.
 */
import {
  type EventOf,
  type EventType,
  isKnownType,
  type KeyRing,
  type ServiceName,
  upcastEvent,
  type VersionOf,
} from '@flotilla/contracts'
import type { RedisClient } from '@flotilla/streams'
import {
  type ConsumerMessage,
  type ConsumerOptions,
  type Handler,
  NonRetryableError,
  type Publisher,
} from '@flotilla/streams'
import type { TelemetryConfig } from '@flotilla/telemetry'
import type { AnyElysia } from 'elysia'
import type { RedisOptions } from 'ioredis'
import type { ReadinessCheck } from '../app/probes.ts'
import type { DeadLetterService } from '../app/service-app.ts'
import type { CloseStep } from '../app/shutdown.ts'
import type { ServiceVerifier } from '../auth/types.ts'
import type { BaseConfig } from '../config/base.ts'
import type { Env } from '../config/load-config.ts'
import type { Logger } from '../logging/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { RevocationList } from '../revocation/list.ts'
import type { Job, JobOutcome } from './scheduler.ts'

/** What every service's config carries (the kit's base variables and the telemetry ones). */
export type ServiceConfig = BaseConfig & TelemetryConfig

/** A typed feature flag, read from `FEATURE_<NAME>` (true/false), logged at start and shown in `/health`. */
export interface FeatureFlag {
  readonly default: boolean
  readonly description: string
}

/** The flags' values by name. */
export type FeatureValues<F extends Record<string, FeatureFlag>> = { readonly [K in keyof F]: boolean }

/** What the runner has built before the service's own domain: handed to `build`. */
export interface ServiceContext<C extends ServiceConfig, F extends Record<string, FeatureFlag>> {
  readonly name: ServiceName
  readonly version: string
  readonly config: C
  readonly features: FeatureValues<F>
  readonly logger: Logger
  readonly metrics: Metrics
  /**
   * The request-path connection (this service's keys, locks, dead letters, readiness): a command fails within a
   * second when Redis is unreachable, and the kit renders that as 503 `DEPENDENCY_UNAVAILABLE`.
   */
  readonly redis: RedisClient
  /**
   * Revoked sessions, users and signing keys, kept current over pub/sub: pass it to `createAccessTokenVerifier`
   * (`revocations`) so a logout, a password change or a key retirement reaches this service at once.
   */
  readonly revocations: RevocationList
  /** Publishes onto the events stream over its own producer connection. */
  readonly publisher: Publisher
  /** Service-token secrets (`SERVICE_TOKEN_SECRET`). */
  readonly serviceKeys: KeyRing
  /** Verifies service tokens whose audience is this service. */
  readonly serviceVerifier: ServiceVerifier
  /** Unique per process: the consumer name and the owner of job slots. */
  readonly instance: string
}

/** What `app` gets from the runner besides the domain: the pieces the kit's base app wires. */
export interface HttpRuntime {
  readonly name: ServiceName
  readonly version: string
  readonly logger: Logger
  readonly metrics: Metrics
  readonly readiness: Readonly<Record<string, ReadinessCheck>>
  readonly features: Readonly<Record<string, boolean>>
  readonly serviceKeys: KeyRing
  readonly serviceVerifier: ServiceVerifier
  /** This service's dead letters, for the inspector routes. */
  readonly deadLetters?: DeadLetterService
}

/**
 * One handler of a handler map: the event version it understands, and what to do with the event. Older versions
 * reach `handle` upcast to that version; newer or unlisted ones are dead-lettered (`UNSUPPORTED_VERSION`).
 */
export type EventSubscription<T extends EventType> = {
  [V in VersionOf<T>]: {
    readonly version: V
    handle(event: EventOf<T, V>, message: ConsumerMessage): unknown
  }
}[VersionOf<T>]

/** Event type → handler. Types not in the map are acknowledged and ignored. */
export type HandlerMap = { readonly [T in EventType]?: EventSubscription<T> }

/** Consumer settings a service may tune (the runner sets stream, group, name, hooks and logger). */
export type ConsumerTuning = Partial<
  Pick<
    ConsumerOptions,
    | 'batchSize'
    | 'concurrency'
    | 'blockMs'
    | 'claimIdleMs'
    | 'handlerTimeoutMs'
    | 'maxDeliveries'
    | 'backoff'
    | 'startId'
  >
>

/** What a service consumes: a handler map keyed by event type, or one handler for every event. */
export type Subscription =
  | { readonly events: HandlerMap; readonly consumer?: ConsumerTuning }
  | { readonly everyEvent: Handler; readonly consumer?: ConsumerTuning }

/** Scheduled jobs: each runs once per slot across every instance (see `createScheduler`). */
export interface JobsDeclaration {
  readonly list: readonly Job[]
  /** Redis key prefix of the locks and slot claims (the service's own prefix). */
  readonly keyPrefix: string
  /** @defaultValue true */
  readonly enabled?: boolean
  /** How often each instance looks for due jobs. @defaultValue 5000 */
  readonly tickMs?: number
  /** Told every outcome on this instance (metrics). */
  readonly onOutcome?: (outcome: JobOutcome) => void
}

/**
 * One service. Every function gets what the runner built; none of them reads the environment, listens or
 * starts anything.
 */
export interface ServiceDeclaration<
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object = Record<never, never>,
> {
  readonly name: ServiceName
  readonly version: string
  /** Reads and checks the config (throw the kit's `ConfigError`, naming every problem at once). */
  readonly config: (env: Env) => C
  /** Feature flags by name (`FEATURE_<NAME>`), each with its default and what it turns on. */
  readonly features?: F
  /** Options of the command connection (auth auto-pipelines its request path). */
  readonly commandConnection?: RedisOptions
  /** Builds the domain: stores, services, clients. `overrides` come from `startService` (tests: a clock, a JWKS). */
  readonly build: (context: ServiceContext<C, F>, overrides: Partial<O>) => Promise<D> | D
  /** The HTTP app: the kit's base app plus the feature routes. */
  readonly app: (deps: D, http: HttpRuntime, context: ServiceContext<C, F>) => A
  readonly subscription?: (deps: D, context: ServiceContext<C, F>) => Subscription
  readonly jobs?: (deps: D, context: ServiceContext<C, F>) => JobsDeclaration
  /** Readiness checks besides Redis and the consumer (a store, a signing key). */
  readonly readiness?: (deps: D) => Readonly<Record<string, ReadinessCheck>>
  /** What to close on shutdown, in order, before the runner's own connections. */
  readonly close?: (deps: D) => readonly CloseStep[]
}

/**
 * Declares a service (an identity function that keeps the types).
 * @example export const auditService = defineService({ name: 'audit', version, config: loadAuditConfig, build, app })
 */
export const defineService = <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object = Record<never, never>,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
): ServiceDeclaration<C, F, D, A, O> => declaration

/** The event types a subscription names (empty for an every-event subscription). */
export const subscribedTypes = (subscription: Subscription): EventType[] =>
  'events' in subscription ? (Object.keys(subscription.events) as EventType[]) : []

/** The dead-letter code of an event whose version the consumer cannot handle. */
export const UNSUPPORTED_VERSION = 'UNSUPPORTED_VERSION'

/** Told what a handler map passed over (the runner counts both in the service's metrics). */
export interface HandlerMapObserver {
  /** An event of a type the catalogue does not know: acknowledged and ignored. */
  unknownType?(type: string): void
  /** An event of a handled type at a version the handler cannot get to: dead-lettered. */
  unsupportedVersion?(type: EventType, version: number, handles: number): void
}

type AnySubscription = { readonly version: number; handle(event: unknown, message: ConsumerMessage): unknown }

/**
 * Turns a handler map into the consumer's handler. An event of a listed type is upcast to the version its handler
 * declares and handed over; one it cannot get there (newer than the handler, unlisted, or no upcaster on the way)
 * throws a `NonRetryableError` coded `UNSUPPORTED_VERSION`, so it waits in the group's dead letters for a replay
 * after the upgrade instead of being dropped. Types the map does not list are acknowledged and ignored.
 */
export const handlerOfMap = (events: HandlerMap, observer: HandlerMapObserver = {}): Handler => ({
  async handle(message: ConsumerMessage) {
    const { event } = message
    if (!isKnownType(event.type)) {
      observer.unknownType?.(event.type)
      return
    }
    const subscription = events[event.type] as AnySubscription | undefined
    if (!subscription) return
    const upcast = upcastEvent(event, subscription.version)
    if (!upcast.ok) {
      observer.unsupportedVersion?.(event.type, event.version, subscription.version)
      throw new NonRetryableError(upcast.reason, { code: UNSUPPORTED_VERSION })
    }
    await subscription.handle(upcast.event, message)
  },
})
