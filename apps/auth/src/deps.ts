/** Builds the auth service's domain from its settings: key ring, tokens, sessions, devices, limits. */
import { createRevocationWriter, type RevocationList } from '@flotilla/service-kit'
import type { RedisClient } from '@flotilla/streams'
import { createRedisConnection } from '@flotilla/streams'
import type { RedisOptions } from 'ioredis'
import { createDeviceStore } from './devices/store.ts'
import type { EventSink } from './events.ts'
import { createIntrospectionGate } from './introspection/gate.ts'
import { createTokenChecker } from './introspection/service.ts'
import { createKeyRing } from './keys/key-ring.ts'
import { deriveSealingKey } from './keys/sealing.ts'
import type { Logger } from './logger.ts'
import { type AuthObserver, noopObserver } from './observe.ts'
import { createFactOutbox } from './outbox/outbox.ts'
import { createRateLimits, type LimitName, type LimitSpec } from './rate-limit/rate-limit.ts'
import { createSessionService } from './sessions/service.ts'
import { createSessionStore } from './sessions/store.ts'
import { createAccessTokens } from './tokens/access-token.ts'

/** Everything the domain needs to know, already validated (config.ts maps the environment onto it). */
export interface AuthSettings {
  /** Prefix of every Redis key this service owns. */
  readonly redisPrefix: string
  readonly issuer: string
  readonly audience: string
  readonly accessTokenTtlSeconds: number
  readonly clockToleranceSeconds: number
  readonly sessionIdleSeconds: number
  readonly sessionAbsoluteSeconds: number
  readonly refreshGraceSeconds: number
  readonly keyEncryptionSecret: string
  readonly keyRotationSeconds: number
  readonly keyPrepublishSeconds: number
  readonly keyCheckIntervalSeconds: number
  readonly rateLimits: Record<LimitName, LimitSpec>
}

export interface CoreDeps {
  readonly redis: RedisClient
  readonly settings: AuthSettings
  /** The events stream: names the revocation sets and channel every verifier listens to. */
  readonly stream: string
  /** The runner's revocation list: this instance's own verifier refuses keys retired by another instance. */
  readonly revocations?: RevocationList
  readonly events: EventSink
  readonly logger: Logger
  /** @defaultValue Date.now (tests move the key ring's clock to check rotation). */
  readonly clock?: () => number
  /** Where outcomes are counted (`createAuthMetrics`). @defaultValue reports nothing */
  readonly observer?: AuthObserver
  /** How old an outbox mark must be before the relay takes it. @defaultValue DEFAULT_SETTLE_MS (30 s) */
  readonly outboxSettleMs?: number
}

/**
 * Options of the service's command connection (sessions, rate limits, key ring), on top of the `request` role
 * (a command fails within a second when Redis is gone). Auto-pipelined: a request sends two or three commands at
 * once, and concurrent requests then share one socket write instead of one each.
 */
export const COMMAND_CONNECTION_OPTIONS: RedisOptions = { enableAutoPipelining: true }

/** The command connection as the service opens it (tests and benchmarks open the same). */
export const openCommandConnection = (url: string, overrides: RedisOptions = {}): RedisClient =>
  createRedisConnection(url, 'request', { ...COMMAND_CONNECTION_OPTIONS, ...overrides })

/** Wires the domain; call `keyRing.ensure()` before serving. */
export const buildCore = async ({
  redis,
  settings: s,
  stream,
  revocations,
  events,
  logger,
  clock,
  observer = noopObserver,
  outboxSettleMs,
}: CoreDeps) => {
  // Revocations reach every verifier through Redis (sets + pub/sub), for as long as a revoked token could live.
  const revocationWriter = createRevocationWriter({
    redis,
    stream,
    tokenLifetimeMs: (s.accessTokenTtlSeconds + 2 * s.clockToleranceSeconds) * 1000,
    ...(clock ? { clock } : {}),
  })
  const keyRing = createKeyRing({
    redis,
    prefix: s.redisPrefix,
    sealer: await deriveSealingKey(s.keyEncryptionSecret, 'signing-keys'),
    rotationMs: s.keyRotationSeconds * 1000,
    prepublishMs: s.keyPrepublishSeconds * 1000,
    // A retired key stays published while a token it signed can still be valid, plus one check interval
    // for instances that have not reloaded the ring yet.
    retainMs: (s.accessTokenTtlSeconds + s.clockToleranceSeconds + s.keyCheckIntervalSeconds) * 1000,
    revocations: revocationWriter,
    ...(clock ? { clock } : {}),
  })
  const tokens = createAccessTokens({
    keyRing,
    issuer: s.issuer,
    audience: s.audience,
    ttlSeconds: s.accessTokenTtlSeconds,
    clockToleranceSeconds: s.clockToleranceSeconds,
    ...(revocations ? { revocations } : {}),
  })
  const sessionStore = createSessionStore(redis, s.redisPrefix, revocationWriter)
  const devices = createDeviceStore(redis, s.redisPrefix)
  const outbox = createFactOutbox({
    redis,
    prefix: s.redisPrefix,
    sink: events,
    logger,
    ...(outboxSettleMs === undefined ? {} : { settleMs: outboxSettleMs }),
  })
  const sessions = createSessionService({
    sessions: sessionStore,
    devices,
    tokens,
    outbox,
    logger,
    observer,
    policy: {
      idleMs: s.sessionIdleSeconds * 1000,
      absoluteMs: s.sessionAbsoluteSeconds * 1000,
      graceMs: s.refreshGraceSeconds * 1000,
    },
  })
  const rateLimits = createRateLimits(redis, s.redisPrefix, s.rateLimits, observer)
  return {
    keyRing,
    tokens,
    revocationWriter,
    sessions,
    sessionStore,
    devices,
    outbox,
    observer,
    checker: createTokenChecker(tokens, sessionStore, observer),
    rateLimits,
    introspectionGate: createIntrospectionGate(redis, s.redisPrefix, rateLimits, sessionStore),
  }
}
export type Core = Awaited<ReturnType<typeof buildCore>>
