/** Publishing events: validate against the contract, XADD (pipelined for batches), return stream ids. */

import type { EventEmitter } from 'node:events'
import { type AnyEvent, assertValidEvent, encodeEntry } from '@flotilla/contracts'
import type { RedisClient } from './connection.ts'

export interface PublisherOptions {
  /** Best made with `createRedisConnection(url, 'producer')`: no offline queue, so a publish fails fast. */
  readonly redis: RedisClient
  /** The stream, usually `events`. */
  readonly stream: string
  /**
   * Cap the stream at about this many entries (`MAXLEN ~`). Off by default: MAXLEN ignores consumer
   * groups and can delete entries still pending; prefer `trimStream`.
   */
  readonly maxLenApprox?: number
  /** How long a publish waits for the very first connection before failing. @defaultValue 2000 */
  readonly connectWaitMs?: number
}

export interface Publisher {
  /** Validates and appends one event; resolves to its stream id. Throws `ContractError` or `PublishError`. */
  publish(event: AnyEvent): Promise<string>
  /** Validates every event first (none is sent if one is invalid), then appends them in one pipeline, in order. */
  publishBatch(events: readonly AnyEvent[]): Promise<string[]>
}

/** Redis did not take the event (unreachable, timed out). The caller decides: retry (same event id) or fail. */
export class PublishError extends Error {
  override readonly name = 'PublishError'
  readonly code = 'PUBLISH_FAILED'
}

// A connection that has never been ready is worth a short wait; one that dropped is not (fail fast). Callers
// waiting at once share one wait, so a burst of publishes before the first connect adds two listeners, not two each.
const firstConnection = new WeakMap<RedisClient, Promise<void>>()
const waitForFirstConnection = async (redis: RedisClient, timeoutMs: number): Promise<void> => {
  if (redis.status === 'ready' || !['wait', 'connecting', 'connect'].includes(redis.status)) return
  let waiting = firstConnection.get(redis)
  if (!waiting) {
    if (redis.status === 'wait') redis.connect().catch(() => {})
    // Redis and Cluster declare different `on` overloads; both are EventEmitters.
    const events = redis as EventEmitter
    waiting = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        events.off('ready', done)
        events.off('error', done)
        firstConnection.delete(redis)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      events.once('ready', done)
      events.once('error', done)
    })
    firstConnection.set(redis, waiting)
  }
  await waiting
}

/**
 * Creates a publisher for one stream.
 * @example
 * const publisher = createPublisher({ redis: createRedisConnection(url, 'producer'), stream: 'events' })
 * await publisher.publish(createEvent('user.registered', { userId, email }, { source: 'monolith' }))
 */
export const createPublisher = ({
  redis,
  stream,
  maxLenApprox,
  connectWaitMs = 2000,
}: PublisherOptions): Publisher => {
  const trim = maxLenApprox === undefined ? [] : ['MAXLEN', '~', String(maxLenApprox)]
  const args = (event: AnyEvent) => [stream, ...trim, '*', ...encodeEntry(event)] as const

  const fail = (error: unknown): never => {
    throw new PublishError(`could not publish to stream "${stream}": ${(error as Error).message}`, {
      cause: error,
    })
  }

  return {
    async publish(event) {
      assertValidEvent(event)
      await waitForFirstConnection(redis, connectWaitMs)
      const id = await redis.xadd(...args(event)).catch(fail)
      if (typeof id !== 'string') return fail(new Error('XADD returned no id'))
      return id
    },

    async publishBatch(events) {
      for (const event of events) assertValidEvent(event)
      if (events.length === 0) return []
      await waitForFirstConnection(redis, connectWaitMs)
      const pipeline = redis.pipeline()
      for (const event of events) pipeline.xadd(...args(event))
      const results = (await pipeline.exec().catch(fail)) ?? []
      return results.map(([error, id], i) => {
        if (error) return fail(error)
        if (typeof id !== 'string') return fail(new Error(`XADD of event ${i} returned no id`))
        return id
      })
    },
  }
}
