/** Test fixture: the monolith over a schema of its own, the real auth app (in process), a unique stream. */
import { afterEach } from 'bun:test'

import { createTestApp, TEST_SERVICE_SECRET } from '@flotilla/auth/testing'
import { type AnyEvent, decodeEntry } from '@flotilla/contracts'
import {
  connectStream,
  createAuthClient,
  createEventPublisher,
  createOutboxRelay,
  createServiceTokens,
  type ResilienceOptions,
} from '@flotilla/sdk'
import { createTestSchema } from '@flotilla/sdk/testing'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, uniqueStreamName } from '@flotilla/streams/testing'
import { drizzle } from 'drizzle-orm/postgres-js'
import { createApp } from './app.ts'
import { createAuthGateway } from './auth-client.ts'
import { migrateDatabase } from './db/migrate.ts'

export interface TestMonolithOptions {
  /** Call auth over HTTP at this URL instead of in process (a test's own server in front of auth). */
  readonly authUrl?: string
  /** The auth client's timeout, retries and breaker. */
  readonly authResilience?: ResilienceOptions
  /** The version of `user.password.changed` to publish. @defaultValue 2 */
  readonly passwordChangedVersion?: 1 | 2
}

/**
 * For a test file: `open()` starts a test monolith for the running test, cleaned up after it. Call at the top
 * of the file.
 */
export const useTestMonolith = () => {
  let current: TestMonolith | undefined
  afterEach(async () => {
    await current?.cleanup()
    current = undefined
  })
  return async (options: TestMonolithOptions = {}) => {
    current = await createTestMonolith(options)
    return current
  }
}

export const createTestMonolith = async (options: TestMonolithOptions = {}) => {
  const db = await createTestSchema()
  await migrateDatabase(db.sql, db.schema)
  const auth = await createTestApp()
  const stream = uniqueStreamName('monolith')
  const connection = connectStream({ redisUrl: 'redis://127.0.0.1:6379', stream })
  const reader = createRedisConnection('redis://127.0.0.1:6379', 'command')
  const client = createAuthClient({
    baseUrl: options.authUrl ?? 'http://auth.test',
    signer: createServiceTokens({ SERVICE_TOKEN_SECRET: TEST_SERVICE_SECRET, SERVICE_NAME: 'monolith' }),
    ...(options.authUrl
      ? {}
      : {
          fetcher: ((input: RequestInfo | URL, init?: RequestInit) =>
            auth.app.handle(new Request(input, init))) as typeof fetch,
        }),
    ...(options.authResilience ? { resilience: options.authResilience } : {}),
  })
  const relay = createOutboxRelay({ sql: db.sql, publisher: connection.publisher, listen: false })
  const app = createApp({
    db: drizzle({ client: db.sql }),
    events: createEventPublisher({ publisher: connection.publisher, source: 'monolith' }),
    auth: createAuthGateway(client),
    relay,
    ...(options.passwordChangedVersion ? { passwordChangedVersion: options.passwordChangedVersion } : {}),
  })
  return {
    app,
    auth,
    db,
    relay,
    /** JSON request through `app.handle`. */
    async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await app.handle(
        new Request(`http://monolith.test${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      )
      const text = await response.text()
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null }
    },
    /** Relays the outbox, then returns the monolith's events on its stream. */
    async relayed(): Promise<AnyEvent[]> {
      while ((await relay.relayOnce()) > 0) {}
      return (await reader.xrange(stream, '-', '+')).flatMap(([, fields]) => {
        const decoded = decodeEntry(fields)
        return decoded.ok ? [decoded.event] : []
      })
    },
    async cleanup() {
      // Each step runs even when one before it failed, so no schema, stream or key is left behind.
      const steps = [
        () => relay.close(),
        () => cleanupStream(reader, stream),
        () => closeConnection(reader),
        () => connection.close(),
        () => auth.close(),
        () => db.drop(),
      ]
      const failures: unknown[] = []
      for (const step of steps) await step().catch((error: unknown) => failures.push(error))
      if (failures.length > 0) throw new AggregateError(failures, 'test monolith cleanup failed')
    },
  }
}
export type TestMonolith = Awaited<ReturnType<typeof createTestMonolith>>
