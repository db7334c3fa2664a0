/** Types of the consumer-group runner: options, messages, handlers, hooks, status. */
import type { KnownEvent, OpaqueEvent } from '@flotilla/contracts'
import type { BackoffOptions } from '../backoff.ts'
import type { RedisAddress, RedisClient } from '../connection.ts'

/** One event as a handler sees it. Narrow on `known`, then on `event.type`. */
export type ConsumerMessage = {
  /** The stream entry id (not an idempotency key: use `event.id`). */
  readonly streamId: string
  /** 1 on the first delivery; grows with every redelivery. */
  readonly deliveryCount: number
  readonly group: string
  /** Set when this entry is a replay of a dead letter (the dead letter's original stream id). */
  readonly replayOf?: string
} & (
  | { readonly known: true; readonly event: KnownEvent }
  | { readonly known: false; readonly event: OpaqueEvent }
)

/** One event at a time, up to `concurrency` at once. Throw to fail (see the error classes). */
export interface EventHandler {
  handle(message: ConsumerMessage): Promise<void> | void
}

/**
 * One call per batch (e.g. one database transaction). Return nothing when all succeeded, or a map of the
 * stream ids that failed to their errors. Throwing fails the whole batch.
 */
export interface BatchHandler {
  handleBatch(
    messages: readonly ConsumerMessage[],
    // biome-ignore lint/suspicious/noConfusingVoidType: returning nothing (all succeeded) is the common case
  ): Promise<Map<string, Error> | void> | Map<string, Error> | void
}

export type Handler = EventHandler | BatchHandler

/** A pino-like logger (`logger.warn({ ctx }, 'message')`). */
export interface StreamLogger {
  debug(obj: Record<string, unknown>, msg: string): void
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

interface HookBase {
  readonly stream: string
  readonly group: string
}

/** Callbacks for metrics (the service kit turns them into Prometheus series). Each must be cheap and not throw. */
export interface StreamHooks {
  /** A handler succeeded for one event. */
  onProcessed?(info: HookBase & { streamId: string; type: string; deliveryCount: number }): void
  /** A handler failed for one event (whatever happens next). */
  onFailed?(info: HookBase & { streamId: string; type: string; deliveryCount: number; error: Error }): void
  /** A failed event stays pending and will be delivered again after `delayMs` or later. */
  onRetried?(
    info: HookBase & { streamId: string; type: string; deliveryCount: number; delayMs: number },
  ): void
  /** An entry moved to the dead-letter stream. `type` is `''` when the entry had none. */
  onDeadLettered?(
    info: HookBase & { streamId: string; type: string; deliveries: number; code: string; message: string },
  ): void
  /** Time spent in the handler: per event for `handle`, per batch for `handleBatch` (then `type` is absent). */
  onHandlerDuration?(
    info: HookBase & { durationMs: number; messages: number; type?: string; ok: boolean },
  ): void
  /** A pending entry was deleted from the stream (trimmed) before it was processed; it was acked. */
  onDeletedEntry?(info: HookBase & { streamId: string }): void
  /** The ack script refused ids another consumer had claimed meanwhile (they stay pending there). */
  onZombieAckRefused?(info: HookBase & { streamIds: readonly string[] }): void
}

/** Opens a connection for the consumer; called for the blocking reader and the command connection. */
export type ConnectionFactory = (role: 'consumer' | 'command') => RedisClient

interface ConsumerOptionsBase {
  /** The stream, usually `events`. */
  readonly stream: string
  /** The consumer group, named for who consumes (`audit`). */
  readonly group: string
  /** @defaultValue `${hostname}-${pid}-${random boot id}`; two processes must never share a name. */
  readonly consumerName?: string
  readonly handler: Handler
  /** Entries per XREADGROUP / reclaim pass. @defaultValue 100 */
  readonly batchSize?: number
  /** Handlers running at once (for `handle`). @defaultValue 16 */
  readonly concurrency?: number
  /** XREADGROUP BLOCK time. @defaultValue 2000 */
  readonly blockMs?: number
  /** A read blocked longer than `blockMs + watchdogMarginMs` on a ready connection is presumed hung. @defaultValue max(1000, blockMs) */
  readonly watchdogMarginMs?: number
  /** Entries of other consumers are claimed only after this idle time (the floor). @defaultValue 30000 */
  readonly claimIdleMs?: number
  /**
   * Each consumer keeps a heartbeat key alive with this TTL (refreshed every TTL / 5). Another consumer's
   * pending entries are taken at once, without waiting `claimIdleMs`, when it has no heartbeat and has been
   * silent this long (SIGKILLed, its machine gone). @defaultValue min(5000, claimIdleMs)
   */
  readonly heartbeatTtlMs?: number
  /** How often the reclaimer looks at the pending list. @defaultValue between 50 and 5000: min(claimIdleMs / 2, backoff.baseMs) */
  readonly reclaimIntervalMs?: number
  /**
   * A handler call (`handle`, or `handleBatch` for the whole batch) still running after this long counts as
   * failed (`HANDLER_TIMEOUT`, retried): past `claimIdleMs` another consumer may take the entry anyway.
   * @defaultValue claimIdleMs
   */
  readonly handlerTimeoutMs?: number
  /** Deliveries before an entry is dead-lettered. @defaultValue 5 */
  readonly maxDeliveries?: number
  /** Retry delays. @defaultValue { baseMs: 1000, maxMs: 60000 } */
  readonly backoff?: Partial<BackoffOptions>
  /** Where a new group starts (`0`: everything in the stream; `$`: only new entries). @defaultValue '0' */
  readonly startId?: string
  /**
   * Other consumers idle this long with nothing pending (crashed processes: names are unique per process)
   * are removed from the group; checked at most once a minute. @defaultValue 3600000
   */
  readonly pruneConsumersIdleMs?: number
  /** How long `close()` waits for in-flight handlers. @defaultValue 10000 */
  readonly closeTimeoutMs?: number
  readonly hooks?: StreamHooks
  readonly logger?: StreamLogger
}

export type ConsumerOptions = ConsumerOptionsBase &
  // A URL, or `{ url, cluster: true }` for a Redis Cluster.
  ({ readonly redisUrl: RedisAddress } | { readonly connectionFactory: ConnectionFactory })

/** Counters and state, for `/ready` and for tests. Counters only grow. */
export interface ConsumerStatus {
  readonly name: string
  readonly stream: string
  readonly group: string
  readonly state: 'idle' | 'starting' | 'running' | 'closing' | 'closed'
  /** Entries read or claimed and not yet settled. */
  readonly inFlight: number
  readonly processed: number
  readonly failed: number
  readonly retried: number
  readonly deadLettered: number
  readonly deletedEntries: number
  readonly zombieAcksRefused: number
  /** Replays meant for another group, acked and skipped. */
  readonly skippedReplays: number
  /** Entries taken over by the reclaimer (own retries and other consumers' stale entries). */
  readonly reclaimed: number
  readonly groupRecreations: number
  /** Times the watchdog replaced a hung blocking connection. */
  readonly readerReconnects: number
  /** The last Redis-side failure (read, ack, claim, dead-letter move); handler errors go to the hooks instead. */
  readonly lastError: string | null
}

/** A running consumer. */
export interface Consumer {
  readonly name: string
  /** Creates the group if needed and starts reading; resolves once the group exists. */
  start(): Promise<void>
  /** Stops reading, waits for in-flight handlers (bounded), flushes acks, closes connections. Safe to call twice. */
  close(): Promise<void>
  status(): ConsumerStatus
}
