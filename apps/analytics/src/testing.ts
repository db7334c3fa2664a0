/**
 * Test fixtures (`@flotilla/analytics/testing`): a temp libSQL file or a PostgreSQL schema, a unique Redis key
 * prefix and stream, real Redis; everything removed on close.
 */
import { describe } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyEvent,
  createCustomEvent,
  createServiceTokenSigner,
  encodeEntry,
  parseKeyRing,
} from '@flotilla/contracts'
import {
  createAccessTokenVerifier,
  createLogger,
  DEV_SERVICE_TOKEN_SECRET,
  type Env,
  type Scheduler,
  startService,
} from '@flotilla/service-kit'
import { createTestSchema, testRequests, type UserTokenTestApp } from '@flotilla/service-kit/testing'
import type { Consumer, RedisClient } from '@flotilla/streams'
import {
  cleanupStream,
  deleteKeysMatching,
  TEST_REDIS_URL,
  uniqueStreamName,
  waitFor,
} from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import type { AnalyticsApp, AppDeps } from './app.ts'
import { type Database, openDatabase } from './db/client.ts'
import { createIngest, type Ingest } from './ingest/service.ts'
import { createRollups, type Rollups } from './rollups/service.ts'
import { analyticsService } from './service.ts'
import { createUniques, type Uniques } from './uniques/service.ts'

export { createEveryEventHandler } from './handlers/every-event.ts'
export { createIngest } from './ingest/service.ts'
export { analyticsService } from './service.ts'
export {
  parseInterval,
  parseRange,
  parseTimeZone,
  parseTypeFilter,
  parseWeekStart,
} from './stats/validate.ts'
export { createUniques } from './uniques/service.ts'
export { TEST_REDIS_URL }

export interface TestStores {
  readonly dir: string
  readonly dbUrl: string
  readonly database: Database
  readonly redis: RedisClient
  readonly prefix: string
  readonly ingest: Ingest
  readonly uniques: Uniques
  readonly rollups: Rollups
  /** Deletes every Redis key under the prefix and the temp directory. */
  close(): Promise<void>
}

/** Deletes every key matching a pattern (SCAN, never FLUSHDB). */
export const deleteKeys = deleteKeysMatching

/** The engines the analytics database runs on; the conformance suites run once per engine. */
export const ENGINES = ['libsql', 'postgresql'] as const
export type Engine = (typeof ENGINES)[number]

/**
 * Registers `body` once per engine, inside a describe block named for it: the analytics database's
 * conformance suite is every test file that uses this (the same tests against libSQL and PostgreSQL).
 */
export const describeEachEngine = (body: (engine: Engine) => void): void => {
  for (const engine of ENGINES) describe(`on ${engine}`, () => body(engine))
}

/**
 * A database of one test: a libSQL file in `dir`, or a PostgreSQL schema of its own (dropped by `drop`).
 * PostgreSQL: `DATABASE_URL`, else the test database `.ci/run` starts; never skipped.
 */
const testDatabaseUrl = async (engine: Engine, dir: string) => {
  if (engine === 'libsql') return { url: `file:${join(dir, 'analytics.db')}`, drop: async () => {} }
  const schema = await createTestSchema('analytics_test')
  return { url: schema.url, drop: () => schema.cleanup() }
}

/** Stores of one test: own database (file or PostgreSQL schema), own Redis prefix. */
export const createTestStores = async (
  overrides: {
    now?: () => number
    minuteRetentionMs?: number
    hourRetentionMs?: number
    engine?: Engine
    /** Another Redis (a Redis Cluster client); closed with the stores. @defaultValue TEST_REDIS_URL */
    redis?: RedisClient
  } = {},
): Promise<TestStores> => {
  const dir = mkdtempSync(join(tmpdir(), 'analytics-test-'))
  const target = await testDatabaseUrl(overrides.engine ?? 'libsql', dir)
  const dbUrl = target.url
  const database = await openDatabase({ url: dbUrl })
  const redis = overrides.redis ?? new Redis(TEST_REDIS_URL)
  const prefix = `test:analytics:${crypto.randomUUID().slice(0, 8)}`
  const uniques = createUniques({
    redis,
    db: database.db,
    prefix,
    hourTtlMs: 8 * 86_400_000,
    dayTtlMs: 40 * 86_400_000,
  })
  const ingest = createIngest({ db: database.db, uniques, ...(overrides.now ? { now: overrides.now } : {}) })
  const rollups = createRollups({
    db: database.db,
    minuteRetentionMs: overrides.minuteRetentionMs ?? 7 * 86_400_000,
    hourRetentionMs: overrides.hourRetentionMs ?? 90 * 86_400_000,
    processedRetentionMs: 30 * 86_400_000,
    ...(overrides.now ? { now: overrides.now } : {}),
  })
  let closed = false
  return {
    dir,
    dbUrl,
    database,
    redis,
    prefix,
    ingest,
    uniques,
    rollups,
    async close() {
      if (closed) return
      closed = true
      await deleteKeys(redis, `${prefix}:*`)
      redis.disconnect()
      await database.close()
      await target.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** An opaque event for tests: `sample('order.placed', '2026-03-01T10:00:00Z', { tenantId: 't1' })`. */
export const sampleEvent = (
  type: string,
  occurredAt: string | Date,
  o: {
    tenantId?: string
    source?: string
    actor?: string
    payload?: Record<string, unknown>
    id?: string
  } = {},
): AnyEvent =>
  createCustomEvent(type, o.payload ?? {}, {
    source: o.source ?? 'monolith',
    occurredAt: typeof occurredAt === 'string' ? new Date(occurredAt) : occurredAt,
    ...(o.tenantId !== undefined ? { tenantId: o.tenantId } : {}),
    ...(o.actor !== undefined ? { actor: { type: 'user', id: o.actor } } : {}),
    ...(o.id !== undefined ? { id: o.id } : {}),
  })

/** The domain with the consumer and scheduler the runner built around it. */
export interface TestDeps extends AppDeps {
  readonly consumer: Consumer
  readonly scheduler: Scheduler
}

/** The analytics fixture: the kit's one `TestApp` shape with user tokens, plus what the runner built. */
export interface TestApp extends UserTokenTestApp<AnalyticsApp> {
  readonly deps: TestDeps
  readonly env: Env
  readonly stream: string
  readonly prefix: string
  readonly redis: Redis
  /** XADDs events onto the test stream (raw, like the monolith). */
  publish(events: readonly AnyEvent[]): Promise<void>
}

/**
 * The service, started by the kit's runner as `main.ts` starts it, on its own temp DATA_DIR, stream, Redis
 * prefix and JWKS key; it does not listen, and its consumer and jobs are not started. `env` overrides any variable;
 * `trustKeys` are more public keys whose user tokens it accepts (a suite that signs its own).
 */
export const createTestApp = async (
  overrides: { env?: Env; now?: () => number; trustKeys?: readonly JWK[]; engine?: Engine } = {},
): Promise<TestApp> => {
  const dir = mkdtempSync(join(tmpdir(), 'analytics-app-'))
  const target = await testDatabaseUrl(overrides.engine ?? 'libsql', dir)
  const stream = uniqueStreamName('analytics')
  const prefix = `test:analytics:${crypto.randomUUID().slice(0, 8)}`
  const env: Env = {
    NODE_ENV: 'test',
    DATA_DIR: dir,
    EVENTS_STREAM: stream,
    ANALYTICS_REDIS_PREFIX: prefix,
    REDIS_URL: TEST_REDIS_URL,
    ANALYTICS_JOBS_ENABLED: 'false',
    ANALYTICS_CONSUMER_CLAIM_IDLE_MS: '1000',
    LOG_LEVEL: 'silent',
    ANALYTICS_DB_URL: target.url,
    ...overrides.env,
  }
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const kid = 'test-key'
  // Its own key, and any other a suite signs its own user tokens with.
  const ownKey: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }
  const jwks = { keys: [ownKey, ...(overrides.trustKeys ?? [])] }
  const issuer = env.AUTH_ISSUER ?? 'flotilla-auth'
  const running = await startService(analyticsService, {
    env,
    port: false,
    consume: false,
    runJobs: false,
    telemetry: false,
    logger: createLogger({ service: 'analytics', level: 'silent' }),
    instance: `test-${crypto.randomUUID().slice(0, 8)}`,
    overrides: {
      accessTokenVerifier: createAccessTokenVerifier({ jwks, issuer }),
      ...(overrides.now ? { now: overrides.now } : {}),
    },
  })
  const { app, consumer, scheduler } = running
  if (!consumer || !scheduler) throw new Error('analytics declares a consumer and jobs')
  // PostgreSQL migrates in the background: the fixture hands the app over once its store answers.
  await waitFor(
    () =>
      running.deps.database.check().then(
        () => true,
        () => false,
      ),
    {
      timeoutMs: 30_000,
      message: 'the analytics database to be migrated',
    },
  )
  const deps: TestDeps = { ...running.deps, consumer, scheduler }
  const redis = new Redis(TEST_REDIS_URL)
  const signer = createServiceTokenSigner(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), 'ops')
  let closed = false
  return {
    app,
    deps,
    env,
    stream,
    prefix,
    redis,
    serviceToken: (audience = 'analytics') => signer.sign({ audience }),
    userToken: ({ tenantId, scope = 'analytics:read', userId = 'user-1' } = {}) =>
      new SignJWT({ sid: 'session-1', scope, ...(tenantId ? { tid: tenantId } : {}) })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuer(issuer)
        .setAudience('flotilla')
        .setSubject(userId)
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    ...testRequests(app, 'http://analytics.test'),
    async publish(events) {
      for (let i = 0; i < events.length; i += 500) {
        const pipe = redis.pipeline()
        for (const e of events.slice(i, i + 500)) pipe.xadd(stream, '*', ...encodeEntry(e))
        await pipe.exec()
      }
    },
    async close() {
      if (closed) return
      closed = true
      await running.close()
      await cleanupStream(redis, stream)
      await deleteKeys(redis, `${prefix}:*`)
      redis.disconnect()
      await target.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
