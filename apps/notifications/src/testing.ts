/**
 * Test fixtures: a real libSQL file in a temp dir, real Redis with a random key prefix and stream, the
 * local outbox (or given transports); everything is deleted on close. Outside tests import it, and the fake
 * provider servers, as `@flotilla/notifications/testing`.
 */
import { describe } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyEvent,
  createServiceTokenSigner,
  decodeEntry,
  type EventOf,
  type EventType,
  parseKeyRing,
} from '@flotilla/contracts'
import { createHttpRuntime, createMetrics } from '@flotilla/service-kit'
import { createTestSchema, type TestApp as KitTestApp, testRequests } from '@flotilla/service-kit/testing'
import { createPublisher } from '@flotilla/streams'
import {
  cleanupStream,
  deleteKeysMatching,
  TEST_REDIS_URL,
  uniqueStreamName,
} from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { createApp, type NotificationsApp } from './app.ts'
import { createTransports, type TransportSettings } from './channels/index.ts'
import type { Transport } from './channels/types.ts'
import { type Db, openDatabase } from './db/client.ts'
import type { NewDelivery } from './deliveries/store.ts'
import { buildCore, type Core, type Settings } from './deps.ts'
import { handleEvent } from './handlers/index.ts'
import { deliveryMetrics, workflowMetrics } from './metrics.ts'
import type { ChannelName } from './templates/model.ts'

export const REDIS_URL = TEST_REDIS_URL

export type { FakePush, FakePushService } from './channels/fakes/push-server.ts'
export { FAKE_PUSH_HOST, startFakePushService } from './channels/fakes/push-server.ts'
export type { FakeEmail, FakeResend } from './channels/fakes/resend-server.ts'
export { startFakeResend } from './channels/fakes/resend-server.ts'
export type { FakeSms, FakeTwilio } from './channels/fakes/twilio-server.ts'
export { startFakeTwilio } from './channels/fakes/twilio-server.ts'
export { createWebPushTransport } from './channels/web-push.ts'
export { notificationsService } from './service.ts'
export { localTimeOf } from './workflows/quiet-hours.ts'

/** The service-token secret test apps trust. */
export const TEST_SERVICE_SECRET = 'test-only-service-token-secret-0123456789abcdef'
/** A Svix secret for webhook tests. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('test-only-webhook-secret-0123456789').toString('base64')}`

/** Settings for tests: generous rate limits, short leases, a random Redis prefix. */
export const testSettings = (overrides: Partial<Settings> = {}): Settings => ({
  redisPrefix: `test:notifications:${crypto.randomUUID().slice(0, 8)}:`,
  defaultLocale: 'en',
  app: { name: 'Flotilla', url: 'https://app.flotilla.test' },
  maxDeliveries: 5,
  providerTimeoutMs: 1000,
  rateLimitMaxWaitMs: 5000,
  circuit: { failures: 5, openMs: 30_000 },
  throttle: {},
  poller: { everyMs: 100, retryBaseMs: 50, retryMaxMs: 500 },
  rateLimits: { resend: 1000, twilio: 1000, 'web-push': 1000 },
  webhookSecret: TEST_WEBHOOK_SECRET,
  ...overrides,
})

/** The events of `type` on a stream, decoded (what a service published). */
export const publishedOn = async <T extends EventType>(
  redis: Redis,
  stream: string,
  type: T,
): Promise<EventOf<T>[]> => {
  const found: EventOf<T>[] = []
  for (const [, fields] of await redis.xrange(stream, '-', '+')) {
    const decoded = decodeEntry(fields)
    if (decoded.ok && decoded.known && decoded.event.type === type) found.push(decoded.event as EventOf<T>)
  }
  return found
}

/** Deletes every key matching a pattern (SCAN, never FLUSHDB). */
export const deleteKeys = deleteKeysMatching

type TransportOverride = Transport | readonly Transport[]

export interface TestAppOptions {
  readonly settings?: Partial<Settings>
  /** Provider settings (fakes' URLs); unset channels use the outbox. */
  readonly transports?: Partial<Omit<TransportSettings, 'timeoutMs' | 'emailFrom'>>
  /** Replace transports outright (per channel: one, or an ordered failover chain, or either made over the database). */
  readonly transportOverrides?: Partial<
    Record<ChannelName, TransportOverride | ((db: Db) => TransportOverride)>
  >
  /** The database engine. @defaultValue 'libsql' */
  readonly engine?: Engine
  /** How long owed published markers wait for a write transaction. @defaultValue 100 */
  readonly markerDelayMs?: number
}

/**
 * A new delivery for tests and benchmarks: by default a queued `password-reset` email to `<id>@example.com` for
 * user `user-<id>`, rendered; `fields` replace any of it.
 */
export const newDeliveryOf = (id: string, fields: Partial<NewDelivery> = {}): NewDelivery => ({
  id,
  eventId: `event-${id}`,
  eventType: 'notification.requested',
  channel: 'email',
  recipient: `${id}@example.com`,
  address: JSON.stringify({ channel: 'email', email: `${id}@example.com` }),
  userId: `user-${id}`,
  tenantId: null,
  correlationId: null,
  traceparent: null,
  template: 'password-reset',
  locale: 'en',
  category: 'account',
  critical: false,
  content: JSON.stringify({ channel: 'email', subject: 's', text: 't', html: '<p>t</p>' }),
  status: 'queued',
  ...fields,
})

/** The engines the notifications database runs on; the conformance suites run once per engine. */
export const ENGINES = ['libsql', 'postgresql'] as const
export type Engine = (typeof ENGINES)[number]

/** Registers `body` once per engine, inside a describe block named for it (the store conformance suite). */
export const describeEachEngine = (body: (engine: Engine) => void): void => {
  for (const engine of ENGINES) describe(`on ${engine}`, () => body(engine))
}

/**
 * A database of one test: a libSQL file in `dir`, or a PostgreSQL schema of its own, dropped by `drop`
 * (`DATABASE_URL`, else the test database `.ci/run` starts; never skipped).
 */
export const testDatabase = async (engine: Engine, dir: string) => {
  if (engine === 'libsql') return { url: `file:${join(dir, 'notifications.db')}`, drop: async () => {} }
  const schema = await createTestSchema('notifications_test')
  return { url: schema.url, drop: () => schema.cleanup() }
}

/**
 * The notifications fixture: the kit's one `TestApp` shape (`request` and `get` send a service token unless
 * `token: null`), plus the domain, its stream and files.
 */
export interface TestApp extends KitTestApp<NotificationsApp> {
  readonly core: Core
  readonly redis: Redis
  readonly stream: string
  readonly dir: string
  readonly dbUrl: string
  /** A fresh service token from `monolith` addressed to `notifications` (or to `audience`). */
  serviceToken(audience?: string): Promise<string>
  /** Runs the rule handler for one event as the consumer would (delivery count 1 unless given). */
  handle(event: AnyEvent, context?: { deliveryCount?: number; replay?: boolean }): Promise<void>
  /** Events published on the test stream, decoded. */
  published<T extends EventType>(type: T): Promise<EventOf<T>[]>
}

/** The whole app over a temp libSQL file (or a PostgreSQL schema) and real Redis; HTTP through `app.handle`. */
export const createTestApp = async (options: TestAppOptions = {}): Promise<TestApp> => {
  const dir = await mkdtemp(join(tmpdir(), 'notifications-test-'))
  const target = await testDatabase(options.engine ?? 'libsql', dir)
  const dbUrl = target.url
  const database = await openDatabase({ url: dbUrl })
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 })
  const settings = testSettings(options.settings)
  const stream = uniqueStreamName('notifications')
  const events = createPublisher({ redis, stream })
  const transports = {
    ...createTransports(database.db, {
      timeoutMs: settings.providerTimeoutMs,
      emailFrom: 'Flotilla <no-reply@flotilla.test>',
      ...options.transports,
    }),
    ...Object.fromEntries(
      Object.entries(options.transportOverrides ?? {}).map(([channel, override]) => {
        const given = typeof override === 'function' ? override(database.db) : override
        return [channel, Array.isArray(given) ? given : [given]]
      }),
    ),
  }
  const metrics = createMetrics('notifications')
  const core = buildCore({
    database,
    redis,
    settings,
    transports,
    events,
    onAttempt: deliveryMetrics(metrics),
    onStatus: workflowMetrics(metrics),
    ...(options.markerDelayMs === undefined ? {} : { markerDelayMs: options.markerDelayMs }),
  })
  const serviceKeys = parseKeyRing(TEST_SERVICE_SECRET)
  const signer = createServiceTokenSigner(serviceKeys, 'monolith')
  const app = createApp({
    core,
    http: createHttpRuntime({ name: 'notifications', metrics, serviceKeys, redis, stream }),
  })
  const http = testRequests(app, 'http://notifications.test')
  const request: TestApp['request'] = async (method, path, options = {}) =>
    http.request(method, path, {
      ...options,
      token: options.token === undefined ? await signer.sign({ audience: 'notifications' }) : options.token,
    })
  let closed = false
  return {
    app,
    core,
    redis,
    stream,
    dir,
    dbUrl,
    serviceToken: (audience = 'notifications') => signer.sign({ audience }),
    request,
    get: (path, token) => request('GET', path, token === undefined ? {} : { token }),
    handle: (event, context = {}) =>
      handleEvent(core.handlerDeps, event as EventOf<EventType>, {
        deliveryCount: context.deliveryCount ?? 1,
        replay: context.replay ?? false,
      }),
    published: (type) => publishedOn(redis, stream, type),
    async close() {
      if (closed) return
      closed = true
      await cleanupStream(redis, stream)
      await deleteKeys(redis, `${settings.redisPrefix}*`)
      redis.disconnect()
      await core.batchStore.flushMarkers().catch(() => {})
      database.close()
      await target.drop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
