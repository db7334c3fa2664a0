/**
 * Several replicas of notifications, audit and analytics as real processes (`lib/replica-main.ts`: the app's
 * declaration under the kit's runner) against one Redis — a unique stream and key prefixes per run — and the stores
 * of `stores.ts`. Replicas can be SIGKILLed and started again; `stop()` ends every process and removes every key,
 * database and file of the run.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServiceTokenSigner, parseKeyRing, SERVICE_NAMES, urlVariableOf } from '@flotilla/contracts'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { deleteKeysMatching, TEST_REDIS_URL } from '@flotilla/streams/testing'
import {
  freePort,
  killProcess,
  type RunningProcess,
  startProcess,
  stopProcess,
} from '../../e2e/harness/processes.ts'
import { openRunStore, REPLICATED_APPS, type ReplicatedApp, type RunStore } from './stores.ts'

const SECRET = 'replicas-only-service-token-secret-0123456789abcdef'
const ENTRY = 'tests/replicas/lib/replica-main.ts'

export interface Replica {
  readonly app: ReplicatedApp
  /** 0-based position; a restarted replica keeps its index and port. */
  readonly index: number
  readonly url: string
  readonly process: RunningProcess
}

export interface ClusterOptions {
  /** Which apps to start. @defaultValue every replicated app */
  readonly apps?: readonly ReplicatedApp[]
  /** Processes per app. @defaultValue 3 */
  readonly replicas?: number
  /** Extra environment per app (job periods, batch sizes). */
  readonly env?: Partial<Record<ReplicatedApp, Record<string, string>>>
  /** @defaultValue 'warn' */
  readonly logLevel?: string
}

export interface Cluster {
  /** Unique id of the run: the stream and every key prefix contain it. */
  readonly id: string
  readonly stream: string
  /** The job ledger every replica appends to (`job-ledger.ts`). */
  readonly jobLedger: string
  /** Live replicas of an app. */
  replicas(app: ReplicatedApp): Replica[]
  /** Any live replica's URL (for reads). */
  url(app: ReplicatedApp): string
  serviceToken(app: ReplicatedApp): Promise<string>
  /** SIGKILLs the replica (no shutdown hooks). */
  kill(replica: Replica): Promise<void>
  /** Starts the replica at `index` again (new process, new consumer name, same port and store). */
  restart(app: ReplicatedApp, index: number): Promise<Replica>
  /** How many replica processes were started in all (restarts included). */
  readonly started: number
  logs(replica: Replica, lines?: number): Promise<string>
  stop(): Promise<void>
}

/** Starts `replicas` processes of each app, all at once; throws with a log when one does not become ready. */
export const startCluster = async (options: ClusterOptions = {}): Promise<Cluster> => {
  const count = options.replicas ?? 3
  const apps = options.apps ?? REPLICATED_APPS
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const stream = `test:replicas:${id}`
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-replicas-'))
  const jobLedger = join(dir, 'jobs.ndjson')
  const ports = new Map<string, number>()
  const live = new Map<string, Replica>()
  const stores: RunStore[] = []
  let started = 0
  const key = (app: ReplicatedApp, index: number) => `${app}-${index}`

  const shared: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: options.logLevel ?? 'warn',
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_STREAM: stream,
    SERVICE_TOKEN_SECRET: SECRET,
    REPLICA_JOB_LEDGER: jobLedger,
    // Auth is not started: only its URL is needed (user-token routes are not called).
    ...Object.fromEntries(SERVICE_NAMES.map((app) => [urlVariableOf(app), `http://127.0.0.1:9`])),
    AUDIT_REDIS_PREFIX: `${stream}:audit:`,
    ANALYTICS_REDIS_PREFIX: `${stream}:analytics`,
    NOTIFICATIONS_REDIS_PREFIX: `${stream}:notifications:`,
  }
  const appEnv = new Map<ReplicatedApp, Record<string, string>>()

  const start = async (app: ReplicatedApp, index: number): Promise<Replica> => {
    const name = key(app, index)
    const port = ports.get(name) ?? freePort()
    ports.set(name, port)
    const dataDir = join(dir, 'data', name)
    mkdirSync(dataDir, { recursive: true })
    started++
    const process = await startProcess({
      name: `${name}.${started}`,
      entry: ENTRY,
      env: { ...shared, ...appEnv.get(app), REPLICA_APP: app, PORT: String(port), DATA_DIR: dataDir },
      port,
      logDir: dir,
      readyTimeoutMs: 120_000,
    })
    const replica: Replica = { app, index, url: process.url, process }
    live.set(name, replica)
    return replica
  }

  const deleteKeys = async () => {
    const redis = createRedisConnection(TEST_REDIS_URL, 'command')
    try {
      await deleteKeysMatching(redis, `*${id}*`)
    } finally {
      await closeConnection(redis)
    }
  }

  let stopped: Promise<void> | undefined
  // Every step runs even when one before it failed, so nothing of the run is left behind.
  const stop = () => {
    stopped ??= (async () => {
      const steps = [
        () => Promise.all([...live.values()].map((r) => stopProcess(r.process))),
        deleteKeys,
        () => Promise.all(stores.map((s) => s.drop())),
        async () => {
          if (!process.env.E2E_KEEP_LOGS) rmSync(dir, { recursive: true, force: true })
        },
      ]
      const failures: unknown[] = []
      for (const step of steps) await step().catch((error: unknown) => failures.push(error))
      if (failures.length > 0) throw new AggregateError(failures, 'stopping the replica cluster failed')
    })()
    return stopped
  }

  try {
    for (const app of apps) {
      const store = await openRunStore(app, id, dir)
      stores.push(store)
      appEnv.set(app, { ...store.env, ...options.env?.[app] })
    }
    // Every replica boots at once: they race for the store's migration as a fleet's machines would.
    const indexes = Array.from({ length: count }, (_, i) => i)
    const booted = await Promise.allSettled(apps.flatMap((app) => indexes.map((index) => start(app, index))))
    const failed = booted.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }

  const signer = createServiceTokenSigner(parseKeyRing(SECRET), 'replica-tests')
  const replicas = (app: ReplicatedApp) => [...live.values()].filter((r) => r.app === app)
  return {
    id,
    stream,
    jobLedger,
    replicas,
    url(app) {
      const any = replicas(app)[0]
      if (!any) throw new Error(`no live ${app} replica`)
      return any.url
    },
    serviceToken: (app) => signer.sign({ audience: app }),
    async kill(replica) {
      live.delete(key(replica.app, replica.index))
      await killProcess(replica.process)
    },
    restart: (app, index) => start(app, index),
    get started() {
      return started
    },
    logs: (replica, lines) => replica.process.tail(lines),
    stop,
  }
}
