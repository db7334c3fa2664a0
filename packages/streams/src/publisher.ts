/**
 * Publishing events: validate against the contract, XADD, return stream ids. Batches go in one pipeline; single
 * publishes made in the same tick go in one round trip too (one pipeline of XADDs, in order).
 */

import type { EventEmitter } from 'node:events'
import { type AnyEvent, assertValidEvent, ENTRY_FIELDS, encodeEntry } from '@flotilla/contracts'
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
  /**
   * A round trip (the publishes of one tick, or one `publishBatch`) not answered within this long fails each of
   * its publishes with `PublishError` (cause: "Command timed out"), as a hung Redis must not hold publishers.
   * One timer per round trip: the `producer` connection sets no per-command timeout (one timer per XADD).
   * @defaultValue 2000
   */
  readonly timeoutMs?: number
}

export interface Publisher {
  /**
   * Validates and appends one event; resolves to its stream id. Throws `ContractError` (at once, nothing sent)
   * or `PublishError`. Publishes made in the same tick share one round trip, appended in call order; each
   * still resolves to its own id or fails on its own.
   */
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
 * Most publishes one pipeline carries; a bigger burst is cut into pipelines of this size, each written as soon as
 * it is full, so Redis appends one while the client encodes the next. Not smaller: every cut is one more write,
 * and on a busy machine the Redis it wakes can take the encoding thread's core until it has answered, while
 * the replies of one pipeline already come back in pieces (Redis reads a client's input 16 KB at a time, ~60
 * events of 250 bytes), each publish resolving as its own reply arrives (bench/publish.ts).
 */
const MAX_COALESCED = 100

/** `work`, or a rejection worded as ioredis words a command timeout once `ms` have passed. */
const withDeadline = <T>(work: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Command timed out (no reply within ${ms} ms)`)), ms)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })

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
  timeoutMs = 2000,
}: PublisherOptions): Publisher => {
  const trim = maxLenApprox === undefined ? [] : ['MAXLEN', '~', String(maxLenApprox)]
  const args = (event: AnyEvent) => [stream, ...trim, '*', ...encodeEntry(event)] as const

  const publishError = (error: unknown) =>
    new PublishError(`could not publish to stream "${stream}": ${(error as Error).message}`, { cause: error })
  const fail = (error: unknown): never => {
    throw publishError(error)
  }
  // The publishes of the current tick: how each caller learns its outcome, and their type and JSON in call
  // order. One pipeline of plain XADDs, not one script: Redis runs a script's XADDs at ~3.4 µs each against
  // ~0.6 µs for XADDs sent as commands (bench/publish.ts, Redis µs/event), which cost more than the round trips
  // it saved.
  let resolvers: ((id: string) => void)[] = []
  let rejecters: ((error: unknown) => void)[] = []
  let pairs: string[] = []

  const flush = async () => {
    const resolve = resolvers
    const reject = rejecters
    const sent = pairs
    if (resolve.length === 0) return
    resolvers = []
    rejecters = []
    pairs = []
    try {
      if (redis.status !== 'ready') await waitForFirstConnection(redis, connectWaitMs)
      const pipeline = redis.pipeline()
      for (let i = 0; i < resolve.length; i++) {
        const done = resolve[i]!
        const fail = reject[i]!
        // Each XADD answers alone, as soon as its reply is read: one refused append fails its own publish only,
        // and the first publishes of a pipeline resume their callers while Redis still appends the rest.
        const answered = (error: Error | null | undefined, id: unknown) => {
          if (error) fail(publishError(error))
          else if (typeof id === 'string') done(id)
          else fail(publishError(new Error('XADD returned no id')))
        }
        const type = sent[2 * i]!
        const json = sent[2 * i + 1]!
        if (trim.length === 0)
          pipeline.xadd(stream, '*', ENTRY_FIELDS.type, type, ENTRY_FIELDS.event, json, answered)
        else pipeline.xadd(stream, ...trim, '*', ENTRY_FIELDS.type, type, ENTRY_FIELDS.event, json, answered)
      }
      const replies = (await withDeadline(pipeline.exec(), timeoutMs)) ?? []
      if (replies.length !== resolve.length)
        throw new Error(`the pipeline answered ${replies.length} replies for ${resolve.length} appends`)
    } catch (error) {
      // The round trip failed as a whole (connection, timeout): each caller still waiting learns it and may retry
      // (a publish already answered is settled; rejecting it again does nothing).
      for (const fail of reject) fail(publishError(error))
    }
  }

  return {
    publish(event) {
      let json: string
      try {
        assertValidEvent(event)
        json = JSON.stringify(event)
      } catch (error) {
        return Promise.reject(error)
      }
      return new Promise<string>((resolve, reject) => {
        resolvers.push(resolve)
        rejecters.push(reject)
        pairs.push(event.type, json)
        if (resolvers.length >= MAX_COALESCED) void flush()
        else if (resolvers.length === 1) process.nextTick(flush)
      })
    },

    async publishBatch(events) {
      for (const event of events) assertValidEvent(event)
      if (events.length === 0) return []
      await waitForFirstConnection(redis, connectWaitMs)
      const pipeline = redis.pipeline()
      for (const event of events) pipeline.xadd(...args(event))
      const results = (await withDeadline(pipeline.exec(), timeoutMs).catch(fail)) ?? []
      return results.map(([error, id], i) => {
        if (error) return fail(error)
        if (typeof id !== 'string') return fail(new Error(`XADD of event ${i} returned no id`))
        return id
      })
    },
  }
}
