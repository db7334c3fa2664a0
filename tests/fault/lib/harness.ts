/** One scenario's world: a private broker redis-server, the ledger, a stream, fixture consumers, a tracked publisher. */
import { randomUUID } from 'node:crypto'
import { type AnyEvent, createCustomEvent, createEvent, deadLetterStreamKey } from '@flotilla/contracts'
import {
  closeConnection,
  createPublisher,
  createRedisConnection,
  onClient,
  type Publisher,
} from '@flotilla/streams'
import { createLedger, type FixtureConfig, type Ledger, type RedisClient } from './ledger.ts'
import { startPrivateCluster } from './redis-cluster.ts'
import { type Persistence, type PrivateRedis, startPrivateRedis } from './redis-server.ts'
import { createSupervisor, type Supervisor } from './supervisor.ts'

const GROUP = 'fault'

/** Polls until `predicate` is truthy or `timeoutMs` passes; resolves to whether it became true. */
export const until = async (
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return true
    if (Date.now() > deadline) return false
    await Bun.sleep(intervalMs)
  }
}

let counter = 0
/** A valid `user.registered` event with a fresh id. */
export const goodEvent = (): AnyEvent => {
  const userId = `u_${++counter}`
  return createEvent('user.registered', { userId, email: `${userId}@example.com` }, { source: 'monolith' })
}
/** A valid event of a type the fixture handler fails on (`fault.poison.throw` / `fault.poison.exit`). */
export const poisonEvent = (kind: 'throw' | 'exit'): AnyEvent =>
  createCustomEvent(`fault.poison.${kind}`, { kind }, { source: 'monolith' })

/**
 * Publishes through the real publisher and keeps score: an event is acknowledged once an XADD for it got
 * a stream id; a publish that failed or timed out counts as unknown and is retried later with the same
 * event (same id), as a producer should.
 */
export const createTracker = (publisher: () => Publisher) => {
  const acked = new Map<string, number>()
  const waiting = new Map<string, AnyEvent>()
  const all = new Set<string>()
  let unknown = 0
  const attempt = async (events: readonly AnyEvent[]) => {
    await Promise.all(
      events.map(async (event) => {
        all.add(event.id)
        try {
          await publisher().publish(event)
          if (!acked.has(event.id)) acked.set(event.id, Date.now())
          waiting.delete(event.id)
        } catch {
          unknown++
          waiting.set(event.id, event)
        }
      }),
    )
  }
  return {
    publish: attempt,
    /** Retries every failed publish until none is left or `maxRounds` rounds passed. */
    async retryFailed(maxRounds = 100, delayMs = 200) {
      for (let round = 0; round < maxRounds && waiting.size > 0; round++) {
        await attempt([...waiting.values()])
        if (waiting.size > 0) await Bun.sleep(delayMs)
      }
    },
    acked,
    get published() {
      return all.size
    },
    get unknown() {
      return unknown
    },
    get unpublished() {
      return waiting.size
    },
  }
}

export type Tracker = ReturnType<typeof createTracker>

let clusterBrokers: { readonly replicas: number } | undefined

/**
 * Every world created afterwards runs on a private three-master Redis Cluster instead of one redis-server
 * (tests/cluster): consumers and publisher with REDIS_CLUSTER semantics, and `broker.kill()` / `start()` acting
 * on the master that serves the scenario's stream. With `replicas`, each master has replicas and `start()` after a
 * kill is the failover: the replica promoted, the old master left dead.
 */
export const useClusterBrokers = ({ replicas = 0 }: { replicas?: number } = {}): void => {
  clusterBrokers = { replicas }
}

export interface ScenarioWorld {
  readonly broker: PrivateRedis
  /** A command connection to the broker. */
  readonly redis: RedisClient
  readonly stream: string
  readonly dlq: string
  readonly ledger: Ledger
  readonly supervisor: Supervisor
  readonly tracker: Tracker
  readonly config: FixtureConfig
  /** Entries pending in the group (0 when the group is gone). */
  pending(consumer?: string): Promise<number>
  deadLetters(): Promise<number>
  /** Recreates the producer connection (after the broker restarted on the same port it reconnects by itself). */
  close(): Promise<void>
}

/** Starts a broker and everything a scenario needs; `close()` kills every process and deletes every key. */
export const createWorld = async (
  ledgerRedis: RedisClient,
  ledgerUrl: string,
  options: { persistence?: Persistence; fixture?: Partial<FixtureConfig> } = {},
): Promise<ScenarioWorld> => {
  const stream = `fault:${randomUUID().slice(0, 8)}`
  const persistence = options.persistence ?? 'none'
  const broker = clusterBrokers
    ? await startPrivateCluster(persistence, stream, clusterBrokers.replicas)
    : await startPrivateRedis(persistence)
  const target = { url: broker.url, cluster: clusterBrokers !== undefined }
  const redis = createRedisConnection(target, 'command')
  const producer = createRedisConnection(target, 'producer')
  // Reconnection is automatic; errors during the faults are expected and must not print as unhandled.
  for (const connection of [redis, producer]) onClient(connection, 'error', () => {})
  const run = `ledger:${stream}`
  const config: FixtureConfig = {
    run,
    brokerUrl: broker.url,
    ...(clusterBrokers ? { brokerCluster: true } : {}),
    ledgerUrl,
    stream,
    group: GROUP,
    blockMs: 200,
    claimIdleMs: 500,
    ...options.fixture,
  }
  // Connected before the first publish, so a burst of publishes does not pile up listeners waiting for it.
  await until(() => producer.status === 'ready', 5000, 10)
  const publisher = createPublisher({ redis: producer, stream })
  const supervisor = createSupervisor(config)
  const ledger = createLedger(ledgerRedis, run)
  let closed: Promise<void> | undefined
  return {
    broker,
    redis,
    stream,
    dlq: deadLetterStreamKey(stream, GROUP),
    ledger,
    supervisor,
    tracker: createTracker(() => publisher),
    config,
    async pending(consumer) {
      if (consumer) {
        const rows = await redis.xpending(stream, GROUP, '-', '+', 100_000, consumer).catch(() => [])
        return (rows as unknown[]).length
      }
      const summary = await redis.xpending(stream, GROUP).catch(() => [0])
      return Number((summary as unknown[])[0] ?? 0)
    },
    deadLetters: () => redis.xlen(deadLetterStreamKey(stream, GROUP)).catch(() => 0),
    close() {
      closed ??= (async () => {
        await supervisor.stopAll()
        await closeConnection(redis).catch(() => {})
        producer.disconnect()
        await broker.stop()
        await ledger.clear()
      })()
      return closed
    },
  }
}
