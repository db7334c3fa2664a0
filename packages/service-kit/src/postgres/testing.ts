/**
 * PostgreSQL test helpers (`@flotilla/service-kit/testing`): a schema of each test's own in the test database,
 * dropped afterwards, and the readiness test of a service whose database is down at boot.
 */
import { expect, it } from 'bun:test'
import { waitFor } from '@flotilla/streams/testing'
import type { Socket } from 'bun'
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

interface Link {
  upstream?: Socket<undefined>
  /** Bytes the client sent before the upstream connection opened. */
  pending: Uint8Array[]
}

/** A TCP forwarder from `port` to the test database: "the database comes up" on a port it was down on. */
const forward = (port: number, target: URL) =>
  Bun.listen<Link>({
    hostname: '127.0.0.1',
    port,
    socket: {
      open(client) {
        client.data = { pending: [] }
        Bun.connect({
          hostname: target.hostname,
          port: Number(target.port || 5432),
          socket: {
            data: (_, chunk) => {
              client.write(chunk)
            },
            close: () => {
              client.end()
            },
            error: () => {
              client.end()
            },
          },
        }).then(
          (upstream) => {
            client.data.upstream = upstream
            for (const chunk of client.data.pending) upstream.write(chunk)
            client.data.pending = []
          },
          () => client.end(),
        )
      },
      data(client, chunk) {
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.pending.push(new Uint8Array(chunk))
      },
      close(client) {
        client.data.upstream?.end()
      },
    },
  })

export interface DatabaseOutageTestOptions {
  /** The variable naming the store's database (`ANALYTICS_DB_URL`). */
  readonly urlVariable: string
  /** The variable of the service's own Redis key prefix (`ANALYTICS_REDIS_PREFIX`). */
  readonly prefixVariable: string
  /** The readiness check that names the database (`store`). */
  readonly check: string
}

/**
 * The test every PostgreSQL-backed app runs through the runner: started with its `*_DB_URL` on a port nothing
 * listens on, it boots (no crash), `/ready` is 503 with the check naming the database; once the database
 * answers on that port, `/ready` turns 200 without a restart.
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
  it('boots with its database down, answers /ready 503 naming it, and turns ready when it comes up', async () => {
    const schema = await createTestSchema(`${declaration.name}_down`)
    const port = closedPort()
    const url = new URL(schema.url)
    url.host = `127.0.0.1:${port}`
    const env = { ...scope, [options.urlVariable]: url.toString() }
    const running = await startService(declaration, { env, port: false, telemetry: false })
    let forwarder: ReturnType<typeof forward> | undefined
    try {
      const probe = async (): Promise<[number, ReadyResponse]> => {
        const response = await running.app.handle(new Request('http://service.test/ready'))
        return [response.status, (await response.json()) as ReadyResponse]
      }
      const [status, body] = await probe()
      expect(status).toBe(503)
      expect(body.checks[options.check]?.status).toBe('failed')
      expect(body.checks[options.check]?.detail).toContain(`postgres://127.0.0.1:${port}/`)
      expect(body.checks.redis?.status).toBe('ok')
      forwarder = forward(port, new URL(TEST_DATABASE_URL))
      const ready = await waitFor(async () => ((await probe())[0] === 200 ? probe() : null), {
        timeoutMs: 45_000,
        intervalMs: 200,
        message: '/ready 200 once the database answers',
      })
      expect(ready[1].checks[options.check]).toMatchObject({ status: 'ok' })
    } finally {
      await running.close()
      forwarder?.stop(true)
      await schema.cleanup()
    }
  }, 60_000)
}
