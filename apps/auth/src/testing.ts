/**
 * Test fixtures (`@flotilla/auth/testing`): real Redis, a random key prefix and stream per fixture, everything
 * deleted on close.
 */

import { type AnyEvent, createServiceTokenSigner, decodeEntry, parseKeyRing } from '@flotilla/contracts'
import {
  type AttackToken,
  buildAttackTokens,
  createHttpRuntime,
  createLogger,
  createMetrics,
  type Logger,
} from '@flotilla/service-kit'
import { type TestApp as KitTestApp, testRequests } from '@flotilla/service-kit/testing'
import type { RedisClient } from '@flotilla/streams'
import { createPublisher } from '@flotilla/streams'
import { deleteKeysMatching, TEST_REDIS_URL } from '@flotilla/streams/testing'
import { exportJWK, importJWK } from 'jose'
import { type AuthApp, createApp } from './app.ts'
import { type AuthSettings, buildCore, type Core, openCommandConnection } from './deps.ts'
import type { RevocationDeps } from './handlers/revoke-user-sessions.ts'
import { type Logger as AppLogger, silentLogger } from './logger.ts'
import { createAuthMetrics } from './metrics.ts'
import type { AuthObserver } from './observe.ts'

export const REDIS_URL = TEST_REDIS_URL
export { DEFAULT_SETTLE_MS } from './outbox/outbox.ts'
export { authService } from './service.ts'

/** Settings for tests: short lifetimes, generous limits, a random prefix. */
export const testSettings = (overrides: Partial<AuthSettings> = {}): AuthSettings => ({
  redisPrefix: `test:auth:${crypto.randomUUID().slice(0, 8)}:`,
  issuer: 'flotilla-auth',
  audience: 'flotilla',
  accessTokenTtlSeconds: 300,
  clockToleranceSeconds: 5,
  sessionIdleSeconds: 3600,
  sessionAbsoluteSeconds: 86_400,
  refreshGraceSeconds: 10,
  keyEncryptionSecret: 'test-only-key-encryption-secret-0123456789abcdef',
  keyRotationSeconds: 86_400,
  keyPrepublishSeconds: 0,
  keyCheckIntervalSeconds: 60,
  rateLimits: {
    'refresh:ip': { points: 10_000, windowSeconds: 60 },
    'refresh:user': { points: 10_000, windowSeconds: 60 },
    'introspect:ip': { points: 10_000, windowSeconds: 60 },
    'introspect:user': { points: 10_000, windowSeconds: 60 },
  },
  ...overrides,
})

/** Deletes every key matching a pattern (SCAN, never FLUSHDB). */
export const deleteKeys = deleteKeysMatching

export interface TestCore extends Core {
  readonly redis: RedisClient
  readonly settings: AuthSettings
  readonly stream: string
  /** What the consumer handlers need. */
  readonly revocation: RevocationDeps
  /** Events published so far, decoded from the stream. */
  published(type?: string): Promise<AnyEvent[]>
  /** Deletes every key under the prefix and the stream, then disconnects; safe to call twice. */
  close(): Promise<void>
}

/** The domain over real Redis with its own prefix and stream. */
export const createTestCore = async (
  overrides: Partial<AuthSettings> = {},
  options: { clock?: () => number; observer?: AuthObserver; logger?: AppLogger } = {},
): Promise<TestCore> => {
  const redis = openCommandConnection(REDIS_URL, { maxRetriesPerRequest: 3 })
  const settings = testSettings(overrides)
  const stream = `${settings.redisPrefix}events`
  // The real publisher: every event this service emits is validated against the contract.
  const events = createPublisher({ redis, stream })
  const core = await buildCore({
    redis,
    settings,
    stream,
    events,
    logger: options.logger ?? silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  })
  await core.keyRing.ensure()
  let closing: Promise<void> | undefined
  return {
    ...core,
    redis,
    settings,
    stream,
    revocation: {
      redis,
      prefix: settings.redisPrefix,
      sessions: core.sessionStore,
      devices: core.devices,
      events,
      outbox: core.outbox,
      logger: options.logger ?? silentLogger,
      observer: core.observer,
      revocations: core.revocationWriter,
    },
    async published(type?: string) {
      const entries = await redis.xrange(stream, '-', '+')
      const events: AnyEvent[] = []
      for (const [, fields] of entries) {
        const decoded = decodeEntry(fields)
        if (decoded.ok && (!type || decoded.event.type === type)) events.push(decoded.event)
      }
      return events
    },
    close() {
      closing ??= (async () => {
        await deleteKeys(redis, `${settings.redisPrefix}*`)
        // Dead-letter streams are hash-tagged with the stream name: `{<stream>}:dlq:<group>`.
        await deleteKeys(redis, `{${stream}}*`)
        redis.disconnect()
      })()
      return closing
    },
  }
}

/** The service-token secret test apps trust. */
export const TEST_SERVICE_SECRET = 'test-only-service-token-secret-0123456789abcdef'

/** The auth fixture: the kit's one `TestApp` shape, plus the domain it runs on. */
export interface TestApp extends KitTestApp<AuthApp> {
  readonly core: TestCore
  /** A fresh service token from `monolith` addressed to `auth` (or to `audience`). */
  serviceToken(audience?: string): Promise<string>
}

/** The whole app over real Redis, a random prefix and stream; HTTP through `app.handle`. */
export const createTestApp = async (
  overrides: Partial<AuthSettings> = {},
  options: { trustedProxyHeader?: string; logger?: Logger } = {},
): Promise<TestApp> => {
  const metrics = createMetrics('auth')
  const logger = options.logger ?? createLogger({ service: 'auth', level: 'silent' })
  const core = await createTestCore(overrides, { observer: createAuthMetrics(metrics.registry), logger })
  const serviceKeys = parseKeyRing(TEST_SERVICE_SECRET)
  const signer = createServiceTokenSigner(serviceKeys, 'monolith')
  const app = createApp({
    core,
    http: createHttpRuntime({
      name: 'auth',
      logger,
      metrics,
      serviceKeys,
      redis: core.redis,
      stream: core.stream,
    }),
    ...(options.trustedProxyHeader ? { trustedProxyHeader: options.trustedProxyHeader } : {}),
  })
  return {
    app,
    core,
    ...testRequests(app, 'http://auth.test'),
    serviceToken: (audience = 'auth') => signer.sign({ audience }),
    close: () => core.close(),
  }
}

/**
 * Every JWT attack (the kit's `buildAttackTokens`) built on the core's real signing key, for a token of this
 * issuer and audience with the given claims.
 */
export const attackTokensOn = async (
  core: TestCore,
  claims: { sub: string; sid: string; jti: string; scope: string },
): Promise<AttackToken[]> => {
  const key = await core.keyRing.signingKey()
  const publicKey = await core.keyRing.publicKey(key.kid)
  if (!publicKey) throw new Error('no public key')
  // The genuine public key, extractable, for the HS256-with-the-public-key attacks.
  const exportable = (await importJWK(await exportJWK(publicKey), 'EdDSA', {
    extractable: true,
  })) as CryptoKey
  return buildAttackTokens({
    privateKey: key.privateKey,
    publicKey: exportable,
    kid: key.kid,
    claims: { iss: core.settings.issuer, aud: core.settings.audience, ...claims },
  })
}
