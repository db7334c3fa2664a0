/** The state one consumer shares between its reader, its reclaimer and batch processing. */

import type { BackoffOptions } from '../backoff.ts'
import type { RedisClient } from '../connection.ts'
import type { FailureReason } from '../errors.ts'
import type { createAcker } from './settle.ts'
import type { Handler, StreamHooks, StreamLogger } from './types.ts'

export interface Counters {
  processed: number
  failed: number
  retried: number
  deadLettered: number
  deletedEntries: number
  zombieAcksRefused: number
  skippedReplays: number
  reclaimed: number
  groupRecreations: number
  readerReconnects: number
  lastError: string | null
}

export interface Runtime {
  readonly stream: string
  readonly group: string
  readonly name: string
  readonly handler: Handler
  readonly batchSize: number
  readonly concurrency: number
  readonly handlerTimeoutMs: number
  readonly maxDeliveries: number
  readonly claimIdleMs: number
  /** A consumer without a heartbeat key, silent this long, is dead: its entries are taken at once. */
  readonly heartbeatTtlMs: number
  /** Whether this consumer's own heartbeat is healthy enough to call others dead (`heartbeat.ts`). */
  mayJudgeOthers(): boolean
  readonly backoff: BackoffOptions
  readonly hooks: StreamHooks
  readonly logger: StreamLogger
  /** The non-blocking connection (acks, claims, dead letters). */
  readonly command: () => RedisClient
  readonly acker: ReturnType<typeof createAcker>
  readonly counters: Counters
  /** Ids read or claimed and not yet settled: the reclaimer and history reads leave them alone. */
  readonly inFlight: InFlight
  /** Own failed entries: the earliest time each may be delivered again. */
  readonly retryAt: Map<string, number>
  /** Own failed entries: the last error, for the dead letter if they run out of deliveries elsewhere. */
  readonly lastErrors: Map<string, FailureReason>
  /** True while a batch's handler runs (a read's reply arriving meanwhile is decoded at once). */
  handling: boolean
  /** Runs batch processing one batch at a time (reader and reclaimer never interleave batches). */
  exclusive<T>(work: () => Promise<T>): Promise<T>
  /** Recreates the group after NOGROUP (deduplicated while one attempt runs). */
  recoverGroup(): Promise<void>
}

/**
 * Ids read or claimed and not yet settled. A batch of new entries is marked and released as a whole (its id
 * array kept as it is: no hashing of every id on the drain path); single ids come from history reads and the
 * reclaimer. Lookups (history reads, reclaim passes) go through an index of the batches' ids, built on the
 * first lookup after a batch came or went.
 */
export interface InFlight {
  add(id: string): void
  delete(id: string): void
  /** Marks every id of a batch; the same array releases them. */
  addBatch(ids: readonly string[]): void
  deleteBatch(ids: readonly string[]): void
  has(id: string): boolean
  readonly size: number
}

export const createInFlight = (): InFlight => {
  const singles = new Set<string>()
  const batches = new Set<readonly string[]>()
  let batched = 0
  let index: Set<string> | undefined
  return {
    add: (id) => void singles.add(id),
    delete: (id) => void singles.delete(id),
    addBatch(ids) {
      if (ids.length === 0 || batches.has(ids)) return
      batches.add(ids)
      batched += ids.length
      index = undefined
    },
    deleteBatch(ids) {
      if (!batches.delete(ids)) return
      batched -= ids.length
      index = undefined
    },
    has(id) {
      if (singles.has(id)) return true
      if (batched === 0) return false
      if (index === undefined) {
        index = new Set()
        for (const ids of batches) for (const one of ids) index.add(one)
      }
      return index.has(id)
    },
    get size() {
      return singles.size + batched
    },
  }
}

export const newCounters = (): Counters => ({
  processed: 0,
  failed: 0,
  retried: 0,
  deadLettered: 0,
  deletedEntries: 0,
  zombieAcksRefused: 0,
  skippedReplays: 0,
  reclaimed: 0,
  groupRecreations: 0,
  readerReconnects: 0,
  lastError: null,
})

/** Calls a hook; a throwing hook is logged, never allowed to break consumption. */
export const callHook = <K extends keyof StreamHooks>(
  rt: Pick<Runtime, 'hooks' | 'logger'>,
  name: K,
  info: Parameters<NonNullable<StreamHooks[K]>>[0],
): void => {
  const hook = rt.hooks[name] as ((arg: typeof info) => void) | undefined
  if (!hook) return
  try {
    hook(info)
  } catch (error) {
    rt.logger.warn({ hook: name, err: error }, 'stream hook threw')
  }
}

/** A promise-chain mutex. */
export const createMutex = () => {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work)
    tail = run.catch(() => {})
    return run
  }
}

export const silentLogger: StreamLogger = { debug() {}, info() {}, warn() {}, error() {} }
