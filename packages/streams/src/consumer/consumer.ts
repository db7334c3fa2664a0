/** The consumer-group runner: at-least-once delivery of one stream to one group, nothing lost. */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { DEFAULT_BACKOFF } from '../backoff.ts'
import type { RedisClient } from '../connection.ts'
import { closeConnection, createRedisConnection, onClient } from '../connection.ts'
import { isNoGroupError, reasonOf } from '../errors.ts'
import { DELETE_IDLE_CONSUMER, runScript } from '../scripts.ts'
import { ensureGroup } from './group.ts'
import { createHeartbeat } from './heartbeat.ts'
import { flushAcks } from './process.ts'
import { pruneIdleConsumers } from './prune.ts'
import { createReader } from './reader.ts'
import { reclaimOnce } from './reclaimer.ts'
import { createInFlight, createMutex, newCounters, type Runtime, silentLogger } from './runtime.ts'
import { createAcker } from './settle.ts'
import type { ConnectionFactory, Consumer, ConsumerOptions, ConsumerStatus } from './types.ts'

/** `${hostname}-${pid}-${random}`: unique per process and per consumer instance (docs/pitfalls.md: never share a name). */
export const defaultConsumerName = (): string =>
  `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`

/** Resolves after `ms`, or as soon as `until` settles; never leaves a timer behind to hold the process open. */
const sleepUntil = async (ms: number, until: Promise<unknown>): Promise<boolean> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const elapsed = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms)
  })
  try {
    return await Promise.race([elapsed, until.then(() => false)])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Creates a consumer of one group. Nothing connects until `start()`.
 * @example
 * const consumer = createConsumer({ redisUrl, stream: 'events', group: 'audit', handler: { handle: (m) => store(m.event) } })
 * await consumer.start()
 * onShutdown(() => consumer.close())
 */
export const createConsumer = (options: ConsumerOptions): Consumer => {
  const name = options.consumerName ?? defaultConsumerName()
  const { stream, group } = options
  const batchSize = options.batchSize ?? 100
  const blockMs = options.blockMs ?? 2000
  const claimIdleMs = options.claimIdleMs ?? 30_000
  const heartbeatTtlMs = options.heartbeatTtlMs ?? Math.min(5000, claimIdleMs)
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  const reclaimIntervalMs =
    options.reclaimIntervalMs ?? Math.max(50, Math.min(5000, claimIdleMs / 2, backoff.baseMs))
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000
  const startId = options.startId ?? '0'
  const logger = options.logger ?? silentLogger
  const connect: ConnectionFactory =
    'connectionFactory' in options
      ? options.connectionFactory
      : (role) => createRedisConnection(options.redisUrl, role)

  let state: ConsumerStatus['state'] = 'idle'
  let command: RedisClient | undefined
  let startPromise: Promise<void> | undefined
  let closePromise: Promise<void> | undefined
  let loops: Promise<unknown> | undefined
  let stopWaiting: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    stopWaiting = resolve
  })

  const openConnection = (role: 'consumer' | 'command'): RedisClient => {
    const redis = connect(role)
    // Without a listener ioredis prints every connection error; log them (reconnection is automatic).
    onClient(redis, 'error', (error: Error) =>
      logger.debug({ err: error, role, consumer: name }, 'redis connection error'),
    )
    return redis
  }

  const heartbeat = createHeartbeat(
    { stream, group, name, logger, command: () => rt.command() },
    heartbeatTtlMs,
  )
  let recovering: Promise<void> | undefined
  const rt: Runtime = {
    stream,
    group,
    name,
    handler: options.handler,
    batchSize,
    concurrency: options.concurrency ?? 16,
    handlerTimeoutMs: options.handlerTimeoutMs ?? claimIdleMs,
    maxDeliveries: options.maxDeliveries ?? 5,
    claimIdleMs,
    heartbeatTtlMs,
    mayJudgeOthers: () => heartbeat.mayJudgeOthers(),
    backoff,
    hooks: options.hooks ?? {},
    logger,
    command: () => {
      if (!command) throw new Error('consumer is not started')
      return command
    },
    acker: createAcker(() => rt.command(), stream, group, name),
    counters: newCounters(),
    inFlight: createInFlight(),
    retryAt: new Map(),
    lastErrors: new Map(),
    handling: false,
    exclusive: createMutex(),
    recoverGroup() {
      recovering ??= (async () => {
        // The stream or the group vanished (deleted, or Redis restarted without persistence): start over from startId.
        const created = await ensureGroup(rt.command(), stream, group, startId)
        if (created) {
          rt.counters.groupRecreations++
          rt.retryAt.clear()
          rt.lastErrors.clear()
          logger.warn({ stream, group, startId }, 'consumer group was missing (NOGROUP); recreated it')
        }
      })().finally(() => {
        recovering = undefined
      })
      return recovering
    },
  }

  const reader = createReader(rt, {
    blockMs,
    watchdogMarginMs: options.watchdogMarginMs ?? Math.max(1000, blockMs),
    open: () => openConnection('consumer'),
    isRunning: () => state === 'running',
  })

  const pruneIdleMs = options.pruneConsumersIdleMs ?? 3_600_000
  let lastPrune = Date.now()
  const reclaimLoop = async () => {
    while (state === 'running') {
      await sleepUntil(reclaimIntervalMs, stopped)
      try {
        // Keep going while passes come back full: a backlog of stale entries is drained without waiting.
        while (state === 'running' && (await reclaimOnce(rt)) >= batchSize) {}
        if (rt.acker.size > 0) await flushAcks(rt)
        if (state === 'running' && Date.now() - lastPrune >= Math.min(pruneIdleMs, 60_000)) {
          lastPrune = Date.now()
          await pruneIdleConsumers(rt, pruneIdleMs)
        }
      } catch (error) {
        if (isNoGroupError(error)) {
          await rt.recoverGroup().catch((e) => logger.error({ err: e }, 'could not recreate the group'))
          continue
        }
        rt.counters.lastError = reasonOf(error).message
        logger.error({ err: error, stream, group }, 'reclaim pass failed')
      }
    }
  }

  const start = () => {
    if (closePromise) return Promise.reject(new Error(`consumer ${name} is closed`))
    startPromise ??= (async () => {
      state = 'starting'
      command = openConnection('command')
      try {
        const created = await ensureGroup(command, stream, group, startId)
        if (created) logger.info({ stream, group, startId }, 'created consumer group')
        // Alive before reading anything: no other consumer may take this one for dead once it owns entries.
        await heartbeat.start()
      } catch (error) {
        // Let the caller retry start() (e.g. Redis not up yet at boot).
        await closeConnection(command)
        command = undefined
        state = 'idle'
        startPromise = undefined
        throw error
      }
      await reader.open()
      if (state !== 'starting') return // closed while starting
      state = 'running'
      logger.info({ stream, group, consumer: name }, 'consumer started')
      loops = Promise.all([reader.loop(), reclaimLoop()])
    })()
    return startPromise
  }

  const close = () => {
    closePromise ??= (async () => {
      const wasRunning = state === 'running'
      state = 'closing'
      stopWaiting()
      if (startPromise) await startPromise.catch(() => {})
      if (command && loops) {
        await reader.interrupt(command)
        const finished = !(await sleepUntil(closeTimeoutMs, loops))
        if (!finished) {
          logger.warn(
            { stream, group, consumer: name, inFlight: rt.inFlight.size },
            'close timed out waiting for handlers; their entries stay pending for another consumer',
          )
        }
        await flushAcks(rt)
        if (finished && wasRunning) {
          // A consumer with nothing pending is removed, so unique names do not pile up in the group.
          await runScript(command, DELETE_IDLE_CONSUMER, [stream], [group, name]).catch(() => {})
        }
      }
      // Gone: whatever is still pending here (a close that timed out) is for the others to take at once.
      if (command) await heartbeat.stop()
      await reader.close()
      if (command) await closeConnection(command)
      state = 'closed'
      logger.info({ stream, group, consumer: name }, 'consumer closed')
    })()
    return closePromise
  }

  return {
    name,
    start,
    close,
    status: () => ({
      name,
      stream,
      group,
      state,
      inFlight: rt.inFlight.size,
      ...rt.counters,
    }),
  }
}
