/** Test helpers for apps built on the kit (`@flotilla/service-kit/testing`). */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'bun:test'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import type { AnyElysia } from 'elysia'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { ReadyResponse } from './app/probes.ts'
import type { FeatureFlag, ServiceConfig, ServiceDeclaration } from './runtime/declaration.ts'
import { startService } from './runtime/runner.ts'
import { serviceTestScope } from './service-test-scope.ts'

/**
 * Child processes for one test file: `spawn` starts `bun <script> ...args` with the test environment (plus
 * `env`) and its output shown; every child still running is SIGKILLed after the file. Call at the top of the
 * file, before the file's own `afterAll`, so the children are gone before their streams and files are.
 */
export const useTestProcesses = () => {
  const children: ReturnType<typeof Bun.spawn>[] = []
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL')
  })
  return {
    spawn(script: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}) {
      const child = Bun.spawn(bunCommand(script, ...args), {
        env: testProcessEnv(env),
        stdout: 'inherit',
        stderr: 'inherit',
      })
      children.push(child)
      return child
    },
  }
}

interface Probed {
  readonly app: { handle(request: Request): Promise<Response> | Response }
  readonly consumer: { close(): Promise<void>; status(): { state: string } } | undefined
}

/**
 * `/ready` of a started service while its consumer runs, then after the consumer is closed: what every app's
 * readiness test compares (200, then 503 naming the consumer).
 */
export const readinessAroundConsumerStop = async (
  running: Probed,
): Promise<{ running: [number, ReadyResponse]; stopped: [number, ReadyResponse] }> => {
  const probe = async (): Promise<[number, ReadyResponse]> => {
    const response = await running.app.handle(new Request('http://service.test/ready'))
    return [response.status, (await response.json()) as ReadyResponse]
  }
  if (!running.consumer) throw new Error('the service has no consumer')
  const before = await probe()
  await running.consumer.close()
  return { running: before, stopped: await probe() }
}

export interface ReadinessTestOptions {
  /** The variable of the service's own Redis key prefix (`AUDIT_REDIS_PREFIX`). */
  readonly prefixVariable: string
  /** A readiness check of the service's own that must still pass once the consumer stops (`store`). */
  readonly ownCheck: string
  /** @defaultValue TEST_REDIS_URL (`REDIS_URL`, else redis://127.0.0.1:6379) */
  readonly redisUrl?: string
}

/**
 * The readiness test every app runs through the runner: started from its declaration on its own stream, key
 * prefix and DATA_DIR, `/ready` answers 200; once its consumer stops, 503 naming the consumer.
 */
export const itIsNotReadyWithoutItsConsumer = <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
  options: ReadinessTestOptions,
): void => {
  const env = serviceTestScope(`${declaration.name}-service`, options.prefixVariable, options.redisUrl)
  it('answers /ready 503 naming the consumer once its consumer stops', async () => {
    const running = await startService(declaration, { env, port: false, telemetry: false })
    try {
      const { running: before, stopped } = await readinessAroundConsumerStop(running)
      expect(before[0]).toBe(200)
      expect(before[1].checks.consumer?.status).toBe('ok')
      expect(stopped[0]).toBe(503)
      expect(stopped[1].checks.consumer).toMatchObject({ status: 'failed', detail: 'consumer is closed' })
      expect(stopped[1].checks[options.ownCheck]?.status).toBe('ok')
    } finally {
      await running.close()
    }
  })
}

/** Anything tests can send a request through without a socket (an Elysia app). */
export interface Handles {
  handle(request: Request): Promise<Response> | Response
}

/** What `TestApp.request` sends besides the method and path. */
export interface TestRequestOptions {
  /**
   * Bearer token. A fixture whose routes all want a service token (notifications) signs one when this is left
   * out; `null` sends none there.
   */
  readonly token?: string | null
  /** JSON-encoded (with `content-type: application/json`) unless already a string. */
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * The one shape of every app's `createTestApp(overrides)` fixture (`@flotilla/<app>/testing`): the app, HTTP
 * through `app.handle`, tokens it accepts, and `close()` to remove everything the fixture made (safe twice).
 */
export interface TestApp<App extends Handles = Handles> {
  readonly app: App
  /** Sends a request through `app.handle` (no socket). */
  request(method: string, path: string, options?: TestRequestOptions): Promise<Response>
  /** `request('GET', path, { token })`. */
  get(path: string, token?: string): Promise<Response>
  /** A service token addressed to this app (or to `audience`). */
  serviceToken(audience?: string): Promise<string>
  close(): Promise<void>
}

/** Who a test user token speaks for. */
export interface TestUserTokenOptions {
  readonly tenantId?: string
  readonly scope?: string
  readonly userId?: string
}

/** The fixture of an app whose routes also take user access tokens (audit, analytics). */
export interface UserTokenTestApp<App extends Handles = Handles> extends TestApp<App> {
  /** A user access token as auth would issue it, signed by the fixture's own JWKS key. */
  userToken(options?: TestUserTokenOptions): Promise<string>
}

/**
 * `request` and `get` over `app.handle`, for a fixture to spread into its `TestApp`.
 * @example return { app, ...testRequests(app, 'http://audit.test'), serviceToken, close }
 */
export const testRequests = (app: Handles, origin: string): Pick<TestApp, 'request' | 'get'> => {
  const request: TestApp['request'] = async (method, path, { token, body, headers = {} } = {}) =>
    app.handle(
      new Request(`${origin}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    )
  return { request, get: (path, token) => request('GET', path, token === undefined ? {} : { token }) }
}

/**
 * Opens a fixture before each test (or once for the enclosing scope, `scope: 'all'`) and closes it after. The
 * returned object stands for the fixture of the test running now: every property is read from it.
 *
 * @example
 * const t = useFixture(() => createTestApp())
 * it('answers', async () => expect((await t.request('GET', '/health')).status).toBe(200))
 */
export const useFixture = <T extends { close(): unknown }>(
  open: () => Promise<T>,
  scope: 'each' | 'all' = 'each',
): T => {
  let current: T | undefined
  const opened = () => {
    if (!current) throw new Error('useFixture: the fixture is only open inside a test')
    return current
  }
  ;(scope === 'each' ? beforeEach : beforeAll)(async () => {
    current = await open()
  })
  ;(scope === 'each' ? afterEach : afterAll)(async () => {
    await current?.close()
    current = undefined
  })
  return new Proxy({} as T, {
    get: (_, key) => {
      const fixture = opened()
      const value: unknown = Reflect.get(fixture, key)
      return typeof value === 'function' ? value.bind(fixture) : value
    },
    has: (_, key) => Reflect.has(opened(), key),
  })
}

/** A page in a browser context where everything but `origin` fails, as it would with no network. */
export interface OfflinePage {
  readonly context: BrowserContext
  readonly page: Page
  /** URLs the page tried to fetch outside `origin` (each was refused). */
  readonly external: string[]
  /** URLs under `origin` that answered 400 or more (the favicon aside). */
  readonly failed: string[]
}

/** Opens a page that can reach `origin` (and `data:` URLs) only, recording what it tried beyond and what failed. */
export const openOfflinePage = async (browser: Browser, origin: string): Promise<OfflinePage> => {
  const context = await browser.newContext()
  const external: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
    external.push(url)
    return route.abort('internetdisconnected')
  })
  const page = await context.newPage()
  const failed: string[] = []
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failed.push(response.url())
  })
  return { context, page, external, failed }
}

export type { DatabaseOutageTestOptions, TestSchema } from './postgres/testing.ts'
export { createTestSchema, itWaitsForItsDatabase, TEST_DATABASE_URL } from './postgres/testing.ts'
