/** The ledger: where fixture consumers record handler calls and effects, on a Redis that is never killed. */
import type { createRedisConnection } from '@flotilla/streams'

export type RedisClient = ReturnType<typeof createRedisConnection>

/** What a fixture consumer process is told (JSON in FAULT_CONSUMER). */
export interface FixtureConfig {
  readonly run: string
  readonly brokerUrl: string
  /** The broker is a Redis Cluster whose masters `brokerUrl` lists (tests/cluster). */
  readonly brokerCluster?: boolean
  readonly ledgerUrl: string
  readonly stream: string
  readonly group: string
  readonly consumerName?: string
  readonly blockMs?: number
  readonly claimIdleMs?: number
  readonly maxDeliveries?: number
  readonly batchSize?: number
  readonly concurrency?: number
  readonly closeTimeoutMs?: number
  readonly handlerTimeoutMs?: number
  /** Time each handler call takes. */
  readonly slowMs?: number
}

export const ledgerKeys = (run: string) => ({
  /** hash event id → handler calls */
  calls: `${run}:calls`,
  /** hash event id → stream id of the delivery whose effect was applied */
  applied: `${run}:applied`,
  /** counter: effects applied (one per first-seen event id) */
  effects: `${run}:effects`,
  /** hash consumer name → JSON status */
  status: `${run}:status`,
  /** set when a handler saw Object.prototype polluted */
  polluted: `${run}:polluted`,
})

/** KEYS calls, applied, effects; ARGV event id, stream id. The effect is applied once per event id. */
export const RECORD_EFFECT = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then redis.call('INCR', KEYS[3]) end
return 1
`

/** A consumer's last status as written by the fixture. */
export interface ChildStatus {
  readonly name: string
  readonly pid: number
  readonly state: string
  readonly processed: number
  readonly deadLettered: number
  readonly deletedEntries: number
  readonly zombieAcksRefused: number
  readonly reclaimed: number
  readonly groupRecreations: number
  readonly readerReconnects: number
  readonly lastError: string | null
}

export interface LedgerTotals {
  /** Distinct event ids whose effect was applied. */
  readonly applied: number
  /** Handler calls beyond the first per event id. */
  readonly duplicateCalls: number
  /** Effects applied beyond one per event id (must be 0). */
  readonly duplicateEffects: number
}

/** Reads the ledger of one run. */
export const createLedger = (redis: RedisClient, run: string) => {
  const keys = ledgerKeys(run)
  return {
    keys,
    appliedCount: () => redis.hlen(keys.applied),
    async appliedIds(): Promise<Set<string>> {
      return new Set(await redis.hkeys(keys.applied))
    },
    async totals(): Promise<LedgerTotals> {
      const calls = await redis.hvals(keys.calls)
      const totalCalls = calls.reduce((n, c) => n + Number(c), 0)
      const applied = await redis.hlen(keys.applied)
      const effects = Number((await redis.get(keys.effects)) ?? 0)
      return { applied, duplicateCalls: totalCalls - calls.length, duplicateEffects: effects - applied }
    },
    async statuses(): Promise<ChildStatus[]> {
      const all = await redis.hvals(keys.status)
      return all.map((s) => JSON.parse(s) as ChildStatus)
    },
    polluted: () => redis.get(keys.polluted),
    clear: () => redis.del(...Object.values(keys)),
  }
}

export type Ledger = ReturnType<typeof createLedger>
