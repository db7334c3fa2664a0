/**
 * The one runner: starts any service declaration — config (or every problem at once), logger, tracing, metrics,
 * the Redis connections, the domain, the consumer and its group, group-stats metrics, jobs, readiness, the HTTP
 * app with Swagger and the dead-letter routes — and closes it all in order. `main.ts` of every app is
 * `await runService(declaration)`; tests call `startService` with their own environment.
 */
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import {
  type Consumes,
  createServiceTokenVerifier,
  parseKeyRing,
  SERVICES,
  type ServiceName,
} from '@flotilla/contracts'
import {
  type Consumer,
  checkRedis,
  createConsumer,
  createPublisher,
  createRedisConnection,
  type Handler,
  readGroupStats,
  whenReady,
} from '@flotilla/streams'
import {
  initTelemetry,
  type Telemetry,
  telemetryOptionsOf,
  traceBatchHandler,
  traceHandler,
} from '@flotilla/telemetry'
import type { AnyElysia } from 'elysia'
import type { ReadinessCheck } from '../app/probes.ts'
import { type CloseStep, closeAll, onShutdown } from '../app/shutdown.ts'
import { ConfigError, type ConfigProblem } from '../config/config-error.ts'
import type { Env } from '../config/load-config.ts'
import { createLogger, type Logger } from '../logging/logger.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { createRevocationList } from '../revocation/list.ts'
import {
  type FeatureFlag,
  type HandlerMapObserver,
  handlerOfMap,
  type ServiceConfig,
  type ServiceContext,
  type ServiceDeclaration,
  type Subscription,
  subscribedTypes,
} from './declaration.ts'
import { readFeatures } from './features.ts'
import { createHttpRuntime } from './http-runtime.ts'
import { createScheduler, type Scheduler } from './scheduler.ts'

/** Every address, IPv4 and IPv6: Fly's private network (6PN) and `<app>.internal` are IPv6 only. */
const LISTEN_HOSTNAME = '::'

export interface StartOptions<O extends object = Record<never, never>> {
  /** Handed to the declaration's `build` (tests inject a clock or a local JWKS). */
  readonly overrides?: Partial<O>
  /** The environment the config is read from. @defaultValue process.env */
  readonly env?: Env
  /** Port to listen on (`0`: any free port); `false`: do not listen (tests call `app.handle`). @defaultValue config.PORT */
  readonly port?: number | false
  /** @defaultValue the config's LOG_LEVEL, JSON to stdout */
  readonly logger?: Logger
  /** Unique name of this process (consumer name, job slots). @defaultValue `<host>-<pid>-<boot id>` */
  readonly instance?: string
  /** Start reading the stream. @defaultValue true */
  readonly consume?: boolean
  /** Start the job scheduler (when the declaration enables it). @defaultValue true */
  readonly runJobs?: boolean
  /** Register process-wide tracing (tests that start several services turn it off). @defaultValue true */
  readonly telemetry?: boolean
}

/** A started service: its parts, for `main.ts` (shutdown) and for tests. */
export interface RunningService<C extends ServiceConfig, D, A extends AnyElysia> {
  readonly name: string
  readonly config: C
  readonly features: Readonly<Record<string, boolean>>
  readonly logger: Logger
  readonly deps: D
  readonly app: A
  readonly consumer: Consumer | undefined
  readonly scheduler: Scheduler | undefined
  /** The port it listens on (`undefined` when it does not). */
  readonly port: number | undefined
  /** Stops HTTP, consumer and jobs, then the service's own resources, then the connections. Safe to call twice. */
  close(): Promise<void>
}

/** How long a boot waits for Redis before building the service anyway (its readiness then says what is missing). */
const BOOT_REDIS_WAIT_MS = 10_000

const defaultInstance = () => `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`

/** Reads the config and the feature flags together, so one ConfigError names every problem. */
const readConfig = <C extends ServiceConfig, F extends Record<string, FeatureFlag>>(
  load: (env: Env) => C,
  flags: F,
  env: Env,
): { config: C; features: Record<keyof F, boolean> } => {
  const problems: ConfigProblem[] = []
  let config: C | undefined
  let features: Record<keyof F, boolean> | undefined
  try {
    config = load(env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.problems)
  }
  try {
    features = readFeatures(flags, env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.problems)
  }
  if (config && !config.REDIS_CLUSTER && config.REDIS_URL.includes(','))
    problems.push({
      variable: 'REDIS_URL',
      message: 'names several nodes; set REDIS_CLUSTER=true for a Redis Cluster',
    })
  if (problems.length > 0 || !config || !features) throw new ConfigError(problems)
  return { config, features }
}

/** The declaration must consume what the service list says it does (README, AsyncAPI and docs read the list). */
const checkSubscription = (name: ServiceName, subscription: Subscription | undefined): void => {
  const listed: Consumes = SERVICES[name].consumes
  const declared = !subscription
    ? []
    : 'events' in subscription
      ? subscribedTypes(subscription)
      : 'every event'
  const same =
    listed === 'every event' || declared === 'every event'
      ? listed === declared
      : [...listed].sort().join() === [...declared].sort().join()
  if (!same)
    throw new Error(
      `the ${name} declaration consumes ${JSON.stringify(declared)} but the service list (packages/contracts/src/services.ts) says ${JSON.stringify(listed)}`,
    )
}

const tracedHandler = (subscription: Subscription, observer: HandlerMapObserver): Handler => {
  const handler =
    'events' in subscription ? handlerOfMap(subscription.events, observer) : subscription.everyEvent
  if ('handleBatch' in handler) return traceBatchHandler(handler)
  return traceHandler({ handle: async (message) => handler.handle(message) })
}

/**
 * Starts a declared service. Throws `ConfigError` (every problem at once) before opening anything when the
 * environment is wrong.
 * @example const running = await startService(auditService, { env, port: false })
 */
export const startService = async <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object = Record<never, never>,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
  options: StartOptions<O> = {},
): Promise<RunningService<C, D, A>> => {
  const env = options.env ?? process.env
  const { name, version } = declaration
  const { config, features } = readConfig(declaration.config, declaration.features ?? ({} as F), env)
  // Every store opener writes under DATA_DIR; libSQL cannot create the folder (SQLITE_CANTOPEN, error 14).
  mkdirSync(config.DATA_DIR, { recursive: true })
  const logger = options.logger ?? createLogger({ service: name, level: config.LOG_LEVEL })
  const telemetry: Telemetry | undefined =
    options.telemetry === false
      ? undefined
      : initTelemetry({ service: name, version, ...telemetryOptionsOf(config) })
  const metrics = createMetrics(name)
  const stream = config.EVENTS_STREAM
  // One Redis or a Redis Cluster (REDIS_CLUSTER): every connection below is opened the same way.
  const target = { url: config.REDIS_URL, cluster: config.REDIS_CLUSTER }
  // Every connection logs its errors through the service logger (JSON), never ioredis' raw unhandled-error line.
  const redis = createRedisConnection(target, 'request', declaration.commandConnection ?? {}, logger)
  const producer = createRedisConnection(target, 'producer', {}, logger)
  const revocations = createRevocationList({
    redis,
    subscriber: () =>
      createRedisConnection(target, 'subscriber', { connectionName: 'flotilla-revocations' }, logger),
    stream,
    logger,
  })
  const serviceKeys = parseKeyRing(config.SERVICE_TOKEN_SECRET)
  const instance = options.instance ?? defaultInstance()
  const context: ServiceContext<C, F> = {
    name,
    version,
    config,
    features,
    logger,
    metrics,
    redis,
    revocations,
    publisher: createPublisher({ redis: producer, stream }),
    serviceKeys,
    serviceVerifier: createServiceTokenVerifier(serviceKeys, { audience: name }),
    instance,
  }
  const connections: CloseStep[] = [
    ['revocations', () => revocations.close()],
    ['producer', () => producer.quit()],
    ['redis', () => redis.quit()],
    ['telemetry', () => telemetry?.close()],
  ]
  let deps: D
  try {
    // Request commands fail within a second once connected; at boot, give a Redis starting alongside us a moment.
    await whenReady(redis, BOOT_REDIS_WAIT_MS)
    deps = await declaration.build(context, options.overrides ?? {})
  } catch (error) {
    await closeAll(connections, logger)()
    throw error
  }

  const subscription = declaration.subscription?.(deps, context)
  try {
    checkSubscription(name, subscription)
  } catch (error) {
    await closeAll([...(declaration.close?.(deps) ?? []), ...connections], logger)()
    throw error
  }
  const consumer = subscription
    ? createConsumer({
        redisUrl: target,
        stream,
        group: name,
        consumerName: instance,
        handler: tracedHandler(subscription, metrics.handlerMapObserver(name)),
        hooks: metrics.streamHooks(name),
        logger,
        ...subscription.consumer,
      })
    : undefined
  metrics.trackGroups(async () => (await readGroupStats({ redis, stream })).filter((g) => g.group === name))

  const jobs = declaration.jobs?.(deps, context)
  const scheduler =
    jobs && jobs.list.length > 0
      ? createScheduler({
          redis,
          keyPrefix: jobs.keyPrefix,
          instance,
          jobs: jobs.list,
          ...(jobs.tickMs ? { tickMs: jobs.tickMs } : {}),
          ...(jobs.onOutcome ? { onOutcome: jobs.onOutcome } : {}),
          logger,
        })
      : undefined

  const readiness: Record<string, ReadinessCheck> = {
    // PING, or on a Redis Cluster every master's cluster_state (a master down: 503 until it recovers).
    redis: () => checkRedis(redis),
    ...(consumer
      ? {
          consumer: async () => {
            const { state } = consumer.status()
            if (state !== 'running') throw new Error(`consumer is ${state}`)
          },
        }
      : {}),
    ...declaration.readiness?.(deps),
  }
  const http = createHttpRuntime({
    name,
    version,
    logger,
    metrics,
    readiness,
    features,
    serviceKeys,
    serviceVerifier: context.serviceVerifier,
    redis,
    stream,
  })
  const app = declaration.app(deps, http, context)

  const close = closeAll(
    [
      ['http', () => (app.server ? app.stop() : undefined)],
      ['consumer', () => consumer?.close()],
      ['jobs', () => scheduler?.close()],
      ...(declaration.close?.(deps) ?? []),
      ...connections,
    ],
    logger,
  )
  try {
    if (consumer && options.consume !== false) await consumer.start()
    if (scheduler && jobs?.enabled !== false && options.runJobs !== false) scheduler.start()
    if (options.port !== false) app.listen({ port: options.port ?? config.PORT, hostname: LISTEN_HOSTNAME })
  } catch (error) {
    await close()
    throw error
  }
  const port = app.server?.port
  logger.info(
    { port, stream, group: consumer ? name : undefined, instance, features },
    `${name} service started`,
  )
  return { name, config, features, logger, deps, app, consumer, scheduler, port, close }
}

/**
 * The whole of an app's `main.ts`: starts the service, prints a ConfigError (every problem, never a value) and
 * exits 1, and closes on SIGTERM / SIGINT.
 * @example await runService(auditService)
 */
export const runService = async <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
): Promise<RunningService<C, D, A>> => {
  let running: RunningService<C, D, A>
  try {
    running = await startService(declaration)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`${declaration.name}: ${error.message}`)
    process.exit(1)
  }
  onShutdown(running.close, { logger: running.logger })
  return running
}
