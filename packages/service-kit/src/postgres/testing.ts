/**
 * PostgreSQL test helpers (`@flotilla/service-kit/testing`): a schema of each test's own in the test database,
 * dropped afterwards, and the readiness test of a service whose database is down at boot.
 */
import { expect, it } from 'bun:test'
import { waitFor } from '@flotilla/streams/testing'
import type { AnyElysia } from 'elysia'
import postgres from 'postgres'
import type { ReadyResponse } from '../app/probes.ts'
import type { FeatureFlag, ServiceConfig, ServiceDeclaration } from '../runtime/declaration.ts'
import { startService } from '../runtime/runner.ts'
import { serviceTestScope } from '../service-test-scope.ts'

/** `DATABASE_URL`, else the database `.ci/run` starts (PostgreSQL runs on every machine that builds this). */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestSchema {
  readonly schema: string
  /** The test database's URL with `?search_path=<schema>`: what a service reads from its `*_DB_URL`. */
  readonly url: string
  /** Drops the schema with everything in it. Safe to call twice. */
  cleanup(): Promise<void>
}

/** Creates an empty schema `<prefix>_<random>` in the test database. */
export const createTestSchema = async (prefix: string, baseUrl = TEST_DATABASE_URL): Promise<TestSchema> => {
  const schema = `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE SCHEMA "${schema}"`)
  const url = new URL(baseUrl)
  url.searchParams.set('search_path', schema)
  let dropped: Promise<void> | undefined
  return {
    schema,
    url: url.toString(),
    cleanup() {
      dropped ??= (async () => {
        await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await admin.end({ timeout: 1 })
      })()
      return dropped
    },
  }
}

/** A loopback port nothing listens on (taken from the OS, then released). */
const closedPort = (): number => {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = listener
  listener.stop(true)
  return port
}

export interface DatabaseOutageTestOptions {
  /** The variable naming the store's database (`ANALYTICS_DB_URL`). */
  readonly urlVariable: string
  /** The variable of the service's own Redis key prefix (`ANALYTICS_REDIS_PREFIX`). */
  readonly prefixVariable: string
  /** The readiness check that names the database (`store`). */
  readonly check: string
}

/**
 * The tests every PostgreSQL-backed app runs through the runner: started with its `*_DB_URL` on a port nothing
 * listens on, it boots (no crash) and `/ready` is 503 with the check naming the database; started on a database
 * that does not exist yet, it turns ready without a restart once the database is created.
 */
export const itWaitsForItsDatabase = <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
  options: DatabaseOutageTestOptions,
): void => {
  const scope = serviceTestScope(`${declaration.name}-pg-down`, options.prefixVariable)
  const start = (url: URL) =>
    startService(declaration, {
      env: { ...scope, [options.urlVariable]: url.toString() },
      port: false,
      telemetry: false,
    })
  const probe = async (running: { app: { handle(r: Request): Response | Promise<Response> } }) => {
    const response = await running.app.handle(new Request('http://service.test/ready'))
    return [response.status, (await response.json()) as ReadyResponse] as const
  }

  it('boots with its database on a closed port and answers /ready 503 naming the database', async () => {
    const port = closedPort()
    const url = new URL(TEST_DATABASE_URL)
    url.host = `127.0.0.1:${port}`
    const running = await start(url)
    try {
      const [status, body] = await probe(running)
      expect(status).toBe(503)
      expect(body.checks[options.check]?.status).toBe('failed')
      expect(body.checks[options.check]?.detail).toContain(`postgres://127.0.0.1:${port}/`)
      expect(body.checks.redis?.status).toBe('ok')
    } finally {
      await running.close()
    }
  }, 60_000)

  it('turns ready without a restart once its database comes up', async () => {
    const name = `${declaration.name}_late_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${name}`
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
    const running = await start(url)
    try {
      const [status, body] = await probe(running)
      expect(status).toBe(503)
      expect(body.checks[options.check]?.detail).toContain(`/${name}`)
      await admin.unsafe(`CREATE DATABASE "${name}"`)
      const [, ready] = await waitFor(
        async () => {
          const answer = await probe(running)
          return answer[0] === 200 ? answer : null
        },
        { timeoutMs: 45_000, intervalMs: 200, message: '/ready 200 once the database exists' },
      )
      expect(ready.checks[options.check]).toMatchObject({ status: 'ok' })
    } finally {
      await running.close()
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await admin.end({ timeout: 1 })
    }
  }, 60_000)
}
