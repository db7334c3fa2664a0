/**
 * The notifications service started by the runner for the workflow tests: its own stream, Redis prefix and
 * libSQL file, short windows from the environment, HTTP through `app.handle` with a service token, events
 * published on the stream as the monolith would. `restart()` closes the runner and starts it again on the same
 * file, stream and prefix (what a deploy or a crash-restart does).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createEvent,
  createServiceTokenSigner,
  type EventOf,
  type EventType,
  type PayloadOf,
  parseKeyRing,
} from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET, type RunningService, startService } from '@flotilla/service-kit'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import type { NotificationsApp } from '../app.ts'
import type { NotificationsConfig } from '../config.ts'
import type { DeliveryDetail, DeliveryView } from '../deliveries/model.ts'
import type { Core } from '../deps.ts'
import { notificationsService } from '../service.ts'
import { deleteKeys, publishedOn, REDIS_URL } from '../testing.ts'

type Running = RunningService<NotificationsConfig, Core, NotificationsApp>

export interface RunningNotifications {
  readonly stream: string
  /** The service as started now (changes on `restart`). */
  readonly running: Running
  /** Publishes a `notification.requested` as the monolith would; resolves to its event id. */
  request(payload: PayloadOf<'notification.requested'>): Promise<string>
  /** An HTTP call with a service token; resolves to status and JSON body. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>
  /** The user's deliveries (`GET /v1/notifications?userId=`), newest first. */
  deliveries(userId: string): Promise<DeliveryView[]>
  /** One delivery with its attempt log (`GET /v1/notifications/:id`). */
  detail(id: string): Promise<DeliveryDetail>
  /** What the local outbox stored for a recipient (`GET /v1/outbox`). */
  outbox(recipient: string): Promise<{ subject: string | null; body: string }[]>
  /** Events the service published on the stream. */
  published<T extends EventType>(type: T): Promise<EventOf<T>[]>
  /** Waits until at least `count` events of `type` are published (one follows its status), then returns them all. */
  publishedAtLeast<T extends EventType>(type: T, count: number): Promise<EventOf<T>[]>
  /** Polls until `predicate` returns something (generous deadline: the machine may be loaded). */
  until<T>(predicate: () => Promise<T>, message: string, timeoutMs?: number): Promise<NonNullable<T>>
  /** Closes the runner and starts it again on the same database, stream and prefix. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** Starts the service with `env` on top of a private stream, prefix and database. */
export const startNotifications = async (env: Record<string, string> = {}): Promise<RunningNotifications> => {
  const dir = await mkdtemp(join(tmpdir(), 'notifications-workflows-'))
  const stream = uniqueStreamName('notifications-workflows')
  const prefix = `test:notifications-workflows:${crypto.randomUUID().slice(0, 8)}:`
  const redis = createRedisConnection(REDIS_URL, 'command')
  const producer = createRedisConnection(REDIS_URL, 'producer')
  const publisher = createPublisher({ redis: producer, stream })
  const signer = createServiceTokenSigner(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), 'monolith')
  const start = () =>
    startService(notificationsService, {
      env: {
        REDIS_URL: REDIS_URL,
        EVENTS_STREAM: stream,
        NOTIFICATIONS_REDIS_PREFIX: prefix,
        NOTIFICATIONS_DB_URL: `file:${join(dir, 'notifications.db')}`,
        NOTIFICATIONS_RETRY_BASE_MS: '50',
        NOTIFICATIONS_RETRY_MAX_MS: '500',
        LOG_LEVEL: 'silent',
        ...env,
      },
      port: false,
      telemetry: false,
    })
  let running = await start()
  const call: RunningNotifications['call'] = async (method, path, body) => {
    const token = await signer.sign({ audience: 'notifications' })
    const response = await running.app.handle(
      new Request(`http://notifications.test${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    )
    return { status: response.status, body: await response.json() }
  }
  const okBody = async <T>(path: string): Promise<T> => {
    const { status, body } = await call('GET', path)
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`)
    return body as T
  }
  let closed = false
  return {
    stream,
    get running() {
      return running
    },
    async request(payload) {
      const event = createEvent('notification.requested', payload, { source: 'monolith' })
      await publisher.publish(event)
      return event.id
    },
    call,
    deliveries: async (userId) =>
      (
        await okBody<{ items: DeliveryView[] }>(
          `/v1/notifications?userId=${encodeURIComponent(userId)}&limit=100`,
        )
      ).items,
    detail: (id) => okBody<DeliveryDetail>(`/v1/notifications/${id}`),
    outbox: async (recipient) =>
      (
        await okBody<{ items: { subject: string | null; body: string }[] }>(
          `/v1/outbox?recipient=${encodeURIComponent(recipient)}&limit=100`,
        )
      ).items,
    published: (type) => publishedOn(redis, stream, type),
    publishedAtLeast: (type, count) =>
      waitFor(
        async () => {
          const events = await publishedOn(redis, stream, type)
          return events.length >= count ? events : null
        },
        { timeoutMs: 30_000, intervalMs: 50, message: `${count} ${type}` },
      ),
    until: (predicate, message, timeoutMs = 30_000) =>
      waitFor(async () => (await predicate()) || null, { timeoutMs, intervalMs: 50, message }) as never,
    async restart() {
      await running.close()
      running = await start()
    },
    async close() {
      if (closed) return
      closed = true
      await running.close()
      await cleanupStream(redis, stream)
      await deleteKeys(redis, `${prefix}*`)
      redis.disconnect()
      producer.disconnect()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
