/**
 * Auth's outbox: every `auth.*` fact is written in the same Redis transaction (MULTI or script) as the state
 * change it describes, into a hash in the session's own hash slot (`P:s:{sid}:outbox`, event id → envelope),
 * because the session keys and the events stream live in different Redis Cluster slots. The request then
 * publishes the facts and deletes them from the outbox; whatever it could not publish (the stream write failed,
 * the process died) is found by the relay through the pending index and published with the same envelope ids
 * (at least once: consumers deduplicate on the envelope id).
 *
 * The pending index (`P:outbox:pending`, session id → time of the last mark) lives in its own slot, so the
 * store marks it *before* the transaction (`markPending`): a crash right after the transaction still leaves
 * the session findable. The relay takes only marks older than `settleMs`, publishes what their outboxes hold,
 * and drops each mark only if it was not renewed meanwhile (one script), so a newer write keeps its mark.
 * (A mark could only be dropped under a write if that writer stalled for `settleMs` between its mark and its
 * transaction, and then crashed before publishing: its facts would wait in the outbox until its next mark; a
 * publish that fails marks the session again.)
 */
import type { AnyEvent } from '@flotilla/contracts'
import { pipelineBySlot, type RedisClient } from '@flotilla/streams'
import type { EventSink } from '../events.ts'
import type { Logger } from '../logger.ts'

/** How long facts wait in an outbox at most before they expire (the relay has long since published them). */
export const OUTBOX_TTL_MS = 7 * 24 * 3600 * 1000

/** A mark is relayed this long after it was last set: the request publishes its own facts well before. */
export const DEFAULT_SETTLE_MS = 30_000

/** Session ids per page, pages per relay pass (a pass covers up to 10,000 sessions: 1,000 sign-ins a second). */
const RELAY_BATCH = 500
const MAX_PAGES = 20

/** Removes a pending mark only while it is still the one the relay saw. KEYS: index. ARGV: sid, mark time. */
const DROP_MARK = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`

/** The outbox of one session: same hash tag as `P:s:{sid}`, so a session script can write it. */
export const outboxKey = (prefix: string, sessionId: string): string => `${prefix}s:{${sessionId}}:outbox`

/** The index of sessions whose outbox may hold facts (session id → time of the last mark, ms). */
export const pendingIndexKey = (prefix: string): string => `${prefix}outbox:pending`

/** Marks a session as possibly holding facts; the store calls it right before the transaction that writes them. */
export const markPending = async (
  redis: RedisClient,
  prefix: string,
  sessionId: string,
  now = Date.now(),
) => {
  // GT: a mark only moves later, so the relay never drops the mark of a write still in flight.
  await redis.zadd(pendingIndexKey(prefix), 'GT', now, sessionId)
}

/** Facts as outbox fields: event id, envelope JSON, … (HSET's field/value pairs). */
export const outboxFields = (facts: readonly AnyEvent[]): string[] =>
  facts.flatMap((fact) => [fact.id, JSON.stringify(fact)])

export interface FactOutboxOptions {
  readonly redis: RedisClient
  readonly prefix: string
  readonly sink: EventSink
  readonly logger: Logger
  /** @defaultValue DEFAULT_SETTLE_MS */
  readonly settleMs?: number
}

/** What one relay pass did. */
export interface RelayResult {
  /** Sessions whose outbox was looked at. */
  readonly sessions: number
  /** Facts published (again) from the outboxes. */
  readonly published: number
  /** Sessions whose publish failed; their marks stay for the next pass. */
  readonly failed: number
}

/** Creates the outbox over the service's command connection. */
export const createFactOutbox = ({
  redis,
  prefix,
  sink,
  logger,
  settleMs = DEFAULT_SETTLE_MS,
}: FactOutboxOptions) => {
  const pendingKey = pendingIndexKey(prefix)

  /**
   * Publishes facts and deletes them from the outbox. On failure they stay there, and the session is marked
   * again: its mark then outlives any relay pass that read an older one.
   */
  const publish = async (sessionId: string, facts: readonly AnyEvent[]): Promise<boolean> => {
    if (facts.length === 0) return true
    try {
      await sink.publishBatch([...facts])
    } catch (error) {
      logger.error(
        { err: error, sessionId, eventIds: facts.map((f) => f.id) },
        'publishing auth events failed; they stay in the outbox for the relay',
      )
      await markPending(redis, prefix, sessionId).catch(() => {})
      return false
    }
    await redis.hdel(outboxKey(prefix, sessionId), ...facts.map((f) => f.id)).catch((error: unknown) => {
      // Published but not deleted: the relay publishes them again under the same ids (deduplicated downstream).
      logger.warn({ err: error, sessionId }, 'could not delete published facts from the outbox')
    })
    return true
  }

  /**
   * One session's leftovers (`stored`: its outbox as read): publish them, delete them, then drop its mark
   * unless a write marked it again meanwhile. A write that marked earlier and lands after the read publishes
   * its own facts, or marks again when it cannot.
   */
  const relaySession = async (
    sessionId: string,
    markedAt: string,
    stored: Record<string, string>,
  ): Promise<number> => {
    const facts = Object.values(stored)
      .map((json) => JSON.parse(json) as AnyEvent)
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))
    if (facts.length > 0) {
      await sink.publishBatch(facts)
      await redis.hdel(outboxKey(prefix, sessionId), ...facts.map((f) => f.id))
    }
    await redis.eval(DROP_MARK, 1, pendingKey, sessionId, markedAt)
    return facts.length
  }

  /** Reads the outboxes of a page of marked sessions in one round trip (one per slot on a Redis Cluster). */
  const readOutboxes = async (sessionIds: readonly string[]) => {
    const replies = await pipelineBySlot(
      redis,
      sessionIds.map((sid) => ['hgetall', outboxKey(prefix, sid)] as const),
    )
    return replies.map((stored) => (stored ?? {}) as Record<string, string>)
  }

  return {
    publish,

    /** Deletes facts published by other means (session id, event id pairs); the relay would only repeat them. */
    async forget(published: readonly (readonly [string, string])[]): Promise<void> {
      await Promise.all(
        published.map(([sessionId, id]) => redis.hdel(outboxKey(prefix, sessionId), id)),
      ).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not delete published facts from the outbox'),
      )
    },

    /** Relays every session marked at least `settleMs` before `now`; a failed session keeps its mark. */
    async relayOnce(now = Date.now()): Promise<RelayResult> {
      let sessions = 0
      let published = 0
      let failed = 0
      let offset = 0
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const page = await redis.zrangebyscore(
          pendingKey,
          '-inf',
          now - settleMs,
          'WITHSCORES',
          'LIMIT',
          offset,
          RELAY_BATCH,
        )
        if (page.length === 0) break
        const marks: { sessionId: string; markedAt: string }[] = []
        for (let i = 0; i + 1 < page.length; i += 2)
          marks.push({ sessionId: page[i] as string, markedAt: page[i + 1] as string })
        const outboxes = await readOutboxes(marks.map((m) => m.sessionId))
        sessions += marks.length
        // Concurrently: the producer and the command connection pipeline the page's commands together, and
        // each session fails alone (one bad outbox never holds back the others).
        const counts = await Promise.all(
          marks.map(({ sessionId, markedAt }, i) =>
            relaySession(sessionId, markedAt, outboxes[i] ?? {}).catch((error: unknown) => {
              failed++
              logger.error({ err: error, sessionId }, 'relaying auth events failed; will retry')
              return 0
            }),
          ),
        )
        published += counts.reduce((a, b) => a + b, 0)
        // Failed sessions keep their marks: step over them so one broken outbox never stalls the rest.
        offset = failed
        if (page.length < RELAY_BATCH * 2) break
      }
      if (published > 0) logger.info({ sessions, published }, 'relayed auth events from the outbox')
      return { sessions, published, failed }
    },
  }
}
export type FactOutbox = ReturnType<typeof createFactOutbox>
