import { afterAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { TelemetryConfigSchema } from '@flotilla/telemetry'
import { Type } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { createServiceApp } from '../app/service-app.ts'
import { baseConfig } from '../config/base.ts'
import { ConfigError } from '../config/config-error.ts'
import type { Env } from '../config/load-config.ts'
import { loadConfig } from '../config/load-config.ts'
import { createLogger } from '../logging/logger.ts'
import { defineService, type Subscription } from './declaration.ts'
import { startService } from './runner.ts'

const REDIS_URL = TEST_REDIS_URL
const redis = createRedisConnection(REDIS_URL, 'command')
const streams: string[] = []
afterAll(async () => {
  for (const stream of streams) await cleanupStream(redis, stream)
  redis.disconnect()
})

const Schema = Type.Composite([
  baseConfig({ port: 3003 }),
  TelemetryConfigSchema,
  Type.Object({ GREETING: Type.String({ minLength: 2, default: 'hi' }) }),
])

/** A small service named like audit (its group takes every event), recording what it handled. */
const sample = (subscription?: (seen: string[]) => Subscription) => {
  const seen: string[] = []
  const closed: string[] = []
  const declaration = defineService({
    name: 'audit',
    version: '9.9.9',
    config: (env: Env) => loadConfig(Schema, env),
    features: { loudGreeting: { default: false, description: 'shout the greeting' } },
    build: ({ config, features }) => ({
      greeting: features.loudGreeting ? config.GREETING.toUpperCase() : config.GREETING,
    }),
    app: (deps, http) => createServiceApp(http).use(new Elysia().get('/greeting', () => deps.greeting)),
    subscription: () =>
      subscription?.(seen) ?? {
        everyEvent: {
          handle: (message) => {
            seen.push(message.event.type)
          },
        },
      },
    close: () => [['sample', () => void closed.push('sample')]],
  })
  return { declaration, seen, closed }
}

const envFor = (extra: Env = {}): Env => {
  const stream = uniqueStreamName('runner')
  streams.push(stream)
  return { REDIS_URL, EVENTS_STREAM: stream, LOG_LEVEL: 'silent', ...extra }
}
const quiet = {
  port: false as const,
  telemetry: false,
  logger: createLogger({ service: 'audit', level: 'silent' }),
}

describe('the service runner', () => {
  it('starts a declaration: config, feature flags in /health, the consumer of its group, and one close', async () => {
    const { declaration, seen, closed } = sample()
    const env = envFor({ FEATURE_LOUD_GREETING: 'true', GREETING: 'hello' })
    const running = await startService(declaration, { ...quiet, env })
    try {
      const health = await (await running.app.handle(new Request('http://localhost/health'))).json()
      expect(health).toMatchObject({ service: 'audit', version: '9.9.9', features: { loudGreeting: true } })
      expect(await (await running.app.handle(new Request('http://localhost/greeting'))).text()).toBe('HELLO')
      await createPublisher({ redis, stream: env.EVENTS_STREAM as string }).publish(
        createEvent('user.deleted', { userId: 'u1' }, { source: 'test' }),
      )
      await waitFor(() => seen.length === 1, { message: 'the event reached the handler' })
      expect(seen).toEqual(['user.deleted'])
      expect(running.consumer?.status().group).toBe('audit')
    } finally {
      await Promise.all([running.close(), running.close()])
    }
    expect(closed).toEqual(['sample'])
    expect(running.consumer?.status().state).toBe('closed')
  })

  it('names every config problem at once, feature flags included, before opening anything', async () => {
    const { declaration } = sample()
    const error = await startService(declaration, {
      ...quiet,
      env: envFor({ GREETING: 'x', FEATURE_LOUD_GREETING: 'maybe', PORT: '-1' }),
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'FEATURE_LOUD_GREETING',
      'GREETING',
      'PORT',
    ])
  })

  it('refuses several Redis nodes without REDIS_CLUSTER=true, naming REDIS_URL', async () => {
    const { declaration } = sample()
    const env = envFor({ REDIS_URL: 'redis://127.0.0.1:7101,redis://127.0.0.1:7102' })
    const error = await startService(declaration, { ...quiet, env }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toEqual([
      { variable: 'REDIS_URL', message: 'names several nodes; set REDIS_CLUSTER=true for a Redis Cluster' },
    ])
  })

  it('refuses a declaration whose subscription drifts from the service list', async () => {
    const { declaration } = sample(() => ({
      events: { 'user.deleted': { version: 1, handle: () => undefined } },
    }))
    await expect(startService(declaration, { ...quiet, env: envFor() })).rejects.toThrow(
      /the audit declaration consumes \["user.deleted"\] but the service list/,
    )
  })
})
