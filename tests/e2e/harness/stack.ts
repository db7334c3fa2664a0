/**
 * The whole system as real processes for one test file: the four apps (`bun apps/<app>/src/main.ts`) on random
 * ports with a unique stream, Redis prefixes and temp DATA_DIRs, plus the example monolith over its own PostgreSQL
 * schema. `stop()` ends every process and deletes every key, file and schema it made.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// tests/ is not a workspace package: the shared packages are imported by path.
import {
  createServiceTokenSigner,
  parseKeyRing,
  SERVICE_NAMES,
  type ServiceName,
  urlVariableOf,
} from '@flotilla/contracts'
import { closeConnection, createRedisConnection, type RedisTarget } from '@flotilla/streams'
import { deleteKeysMatching, TEST_REDIS_URL } from '@flotilla/streams/testing'
import { SQL } from 'bun'
import { freePort, killProcess, type RunningProcess, startProcess, stopProcess } from './processes.ts'

/** The services, from the service list. */
export const APP_NAMES = SERVICE_NAMES
export type AppName = ServiceName

/**
 * The Redis every stack of this process runs on: the test Redis, unless a suite switches to a Redis Cluster
 * (`useRedisCluster`, tests/cluster) before it starts any stack, so the same flows run on both.
 */
const redisTarget: { url: string; cluster: boolean } = { url: TEST_REDIS_URL, cluster: false }

/** Runs every stack started afterwards on the Redis Cluster at `url` (comma-separated nodes): `REDIS_CLUSTER=true`. */
export const useRedisCluster = (url: string): void => {
  redisTarget.url = url
  redisTarget.cluster = true
}

export const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
/** The service-token secret every process of the stack shares. */
const E2E_SERVICE_SECRET = 'e2e-only-service-token-secret-0123456789abcdef'

export interface StackOptions {
  readonly apps: readonly AppName[]
  /** Start the example monolith. @defaultValue true */
  readonly monolith?: boolean
  /** Run the outbox relay as its own process (so a test can kill it). @defaultValue false */
  readonly separateRelay?: boolean
  /** Extra environment per process (`all` applies to every one). */
  readonly env?: Partial<Record<AppName | 'monolith' | 'all', Record<string, string>>>
}

export interface Stack {
  /** Unique id of this run; the stream, prefixes and schema all contain it. */
  readonly run: string
  readonly stream: string
  readonly schema: string
  /** The Redis (or Redis Cluster) the stack runs on, and the same as the variables its processes get. */
  readonly redis: RedisTarget
  readonly redisEnv: { readonly REDIS_URL: string; readonly REDIS_CLUSTER: string }
  url(app: AppName | 'monolith'): string
  /** A service token from `e2e-tests` for one app. */
  serviceToken(audience: AppName): Promise<string>
  /** Starts the standalone outbox relay (when `separateRelay`). */
  startRelay(): Promise<RunningProcess>
  /** SIGKILLs the standalone relay. */
  killRelay(): Promise<void>
  /** Stops the monolith and starts it again on the same port with extra environment (a producer's redeploy). */
  restartMonolith(env: Record<string, string>): Promise<void>
  /** Process logs, for failure messages. */
  logs(name: AppName | 'monolith' | 'relay', lines?: number): Promise<string>
  stop(): Promise<void>
}

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&')

/** Starts the stack; throws with the failing process's log when one does not become ready. */
export const startStack = async (options: StackOptions): Promise<Stack> => {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const run = `test:e2e:${id}`
  const schema = `e2e_${id}`
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-e2e-'))
  const ports = new Map<AppName | 'monolith', number>()
  for (const app of APP_NAMES) ports.set(app, freePort())
  ports.set('monolith', freePort())
  const url = (app: AppName | 'monolith') => `http://127.0.0.1:${ports.get(app)}`
  const processes = new Map<string, RunningProcess>()

  const redis: RedisTarget = { ...redisTarget }
  const redisEnv = { REDIS_URL: redis.url, REDIS_CLUSTER: String(redis.cluster) }
  const shared: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...redisEnv,
    EVENTS_STREAM: run,
    SERVICE_TOKEN_SECRET: E2E_SERVICE_SECRET,
    // Each service's URL and its own Redis key prefix (`<SERVICE>_REDIS_PREFIX`), from the service list.
    ...Object.fromEntries(APP_NAMES.map((app) => [urlVariableOf(app), url(app)])),
    ...Object.fromEntries(APP_NAMES.map((app) => [`${app.toUpperCase()}_REDIS_PREFIX`, `${run}:${app}:`])),
    ...options.env?.all,
  }
  const monolithEnv = (relay: boolean): Record<string, string> => ({
    ...shared,
    PORT: String(ports.get('monolith')),
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    OUTBOX_RELAY: String(relay),
    OUTBOX_POLL_MS: '200',
    SERVICE_NAME: 'monolith',
    ...options.env?.monolith,
  })

  const deleteKeys = async () => {
    const connection = createRedisConnection(redis, 'command')
    try {
      // Every master of a cluster.
      await deleteKeysMatching(connection, `*${escapeGlob(id)}*`)
    } finally {
      await closeConnection(connection)
    }
  }
  const dropSchema = async () => {
    const sql = new SQL(DATABASE_URL)
    try {
      await sql.unsafe(`drop schema if exists "${schema}" cascade`)
    } finally {
      await sql.close()
    }
  }

  let stopped: Promise<void> | undefined
  // Every step runs even when one before it failed, so nothing of the run is left behind.
  const stop = () => {
    stopped ??= (async () => {
      const steps = [
        () => Promise.all([...processes.values()].map((p) => stopProcess(p))),
        deleteKeys,
        dropSchema,
        async () => {
          if (!process.env.E2E_KEEP_LOGS) rmSync(dir, { recursive: true, force: true })
        },
      ]
      const failures: unknown[] = []
      for (const step of steps) await step().catch((error: unknown) => failures.push(error))
      if (failures.length > 0) throw new AggregateError(failures, 'stopping the e2e stack failed')
    })()
    return stopped
  }

  const signer = createServiceTokenSigner(parseKeyRing(E2E_SERVICE_SECRET), 'e2e-tests')
  try {
    // Auth first: the others fetch its JWKS.
    const order = APP_NAMES.filter((a) => options.apps.includes(a))
    for (const app of order) {
      const dataDir = join(dir, app)
      mkdirSync(dataDir, { recursive: true })
      const env = { ...shared, PORT: String(ports.get(app)), DATA_DIR: dataDir, ...options.env?.[app] }
      processes.set(
        app,
        await startProcess({
          name: app,
          entry: `apps/${app}/src/main.ts`,
          env,
          port: ports.get(app)!,
          logDir: dir,
        }),
      )
    }
    if (options.monolith !== false) {
      const env = monolithEnv(!options.separateRelay)
      const entry = 'examples/monolith/src/main.ts'
      processes.set(
        'monolith',
        await startProcess({ name: 'monolith', entry, env, port: ports.get('monolith')!, logDir: dir }),
      )
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }

  const startRelay = async () => {
    const relay = await startProcess({
      name: 'relay',
      entry: 'examples/monolith/src/relay.ts',
      env: monolithEnv(true),
      port: 0,
      logDir: dir,
      readyPath: '',
    })
    processes.set('relay', relay)
    return relay
  }
  if (options.monolith !== false && options.separateRelay) await startRelay()

  return {
    run,
    stream: run,
    schema,
    redis,
    redisEnv,
    url,
    serviceToken: (audience) => signer.sign({ audience }),
    startRelay,
    async killRelay() {
      const relay = processes.get('relay')
      if (relay) await killProcess(relay)
      processes.delete('relay')
    },
    async restartMonolith(env) {
      const running = processes.get('monolith')
      if (running) await stopProcess(running)
      processes.set(
        'monolith',
        await startProcess({
          name: 'monolith',
          entry: 'examples/monolith/src/main.ts',
          env: { ...monolithEnv(!options.separateRelay), ...env },
          port: ports.get('monolith')!,
          logDir: dir,
        }),
      )
    },
    async logs(name, lines) {
      return (await processes.get(name)?.tail(lines)) ?? `(no ${name} process)`
    },
    stop,
  }
}
