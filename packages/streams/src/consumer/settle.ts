/** Settling entries: batched, owner-checked acks and the atomic move to the dead-letter stream. */
import { deadLetterStreamKey } from '@flotilla/contracts'
import type { RedisClient } from '../connection.ts'
import type { FailureReason } from '../errors.ts'
import { isNoGroupError } from '../errors.ts'
import { ACK_OWNED, DEAD_LETTER_OWNED, runScript } from '../scripts.ts'

/** An entry on its way to the dead-letter stream. */
export interface DeadLetterItem {
  readonly id: string
  /** The original entry's fields (null when it had none). */
  readonly fields: Readonly<Record<string, string>> | null
  readonly deliveries: number
  readonly reason: FailureReason
}

/**
 * Whether stream id `a` (its `-` at `da`) comes before `b` (its `-` at `db`). Ids from Redis are canonical
 * `<ms>-<seq>` decimals, so a shorter part is a smaller number; cheaper than parsing to bigints, and a wrong
 * answer only costs the script time.
 */
const idBefore = (a: string, da: number, b: string, db: number): boolean => {
  if (da !== db) return da < db
  // Same-length parts on both sides (the usual case): text order is number order.
  if (a.length === b.length) return a < b
  const ma = a.slice(0, da)
  const mb = b.slice(0, db)
  return ma === mb ? a.length < b.length : ma < mb
}

/** The lowest and highest of some stream ids (the ack script's range shortcut); each id's `-` is found once. */
const rangeOf = (ids: readonly string[]): [string, string] => {
  let low = ids[0] as string
  let lowDash = low.indexOf('-')
  let high = low
  let highDash = lowDash
  for (const id of ids) {
    const dash = id.indexOf('-')
    if (idBefore(id, dash, low, lowDash)) {
      low = id
      lowDash = dash
    } else if (idBefore(high, highDash, id, dash)) {
      high = id
      highDash = dash
    }
  }
  return [low, high]
}

// Ids per script call: keeps each call short (the script blocks Redis while it runs) and within Lua's unpack limit.
const ACK_CHUNK = 500

/** Buffers acks and sends them in one owner-checked script call per flush. Failed flushes keep their ids. */
export const createAcker = (redis: () => RedisClient, stream: string, group: string, consumer: string) => {
  const buffer: string[] = []
  return {
    add(ids: readonly string[]) {
      buffer.push(...ids)
    },
    get size() {
      return buffer.length
    },
    /** Acks the buffered ids this consumer still owns; resolves to the ids refused (claimed by another). */
    async flush(): Promise<string[]> {
      const refused: string[] = []
      while (buffer.length > 0) {
        // Take the chunk out first: a concurrent flush (reader and reclaimer) never sends or drops the same ids.
        const chunk = buffer.splice(0, ACK_CHUNK)
        try {
          const reply = (await runScript(
            redis(),
            ACK_OWNED,
            [stream],
            [group, consumer, ...rangeOf(chunk), ...chunk],
          )) as [number, string[] | null]
          refused.push(...(reply[1] ?? []))
        } catch (error) {
          // The group is gone (and its pending list with it): nothing is left to ack.
          if (isNoGroupError(error)) continue
          buffer.unshift(...chunk)
          throw error
        }
      }
      return refused
    },
  }
}

/** What became of entries sent to the dead-letter stream. */
export interface DeadLetterOutcome {
  /** Moved: dead letter written and the entry acked, in one script call each. */
  readonly moved: readonly DeadLetterItem[]
  /** Taken by another consumer meanwhile: left alone, pending with its new owner (a refused zombie move). */
  readonly refused: readonly string[]
}

/**
 * Moves entries this consumer still owns to the group's dead-letter stream: per entry, one script writes the
 * dead letter and acks the entry, so an entry is never acked without its dead letter, nor dead-lettered and left
 * pending — and never moved once another consumer has claimed it. Entries no longer pending are skipped.
 */
export const moveToDeadLetter = async (
  redis: RedisClient,
  stream: string,
  group: string,
  consumer: string,
  items: readonly DeadLetterItem[],
): Promise<DeadLetterOutcome> => {
  const moved: DeadLetterItem[] = []
  const refused: string[] = []
  if (items.length === 0) return { moved, refused }
  const key = deadLetterStreamKey(stream, group)
  const failedAt = new Date().toISOString()
  // Sent together (one round trip on an auto-pipelined or busy connection); each call is atomic on its own.
  const outcomes = await Promise.all(
    items.map(({ id, fields, deliveries, reason }) => {
      const replayOf = fields?.replayOf
      const letter = [
        'originalId',
        id,
        'originalStream',
        stream,
        'group',
        group,
        'type',
        fields?.type ?? '',
        'event',
        fields?.event ?? '',
        'deliveries',
        String(deliveries),
        'errorCode',
        reason.code,
        'error',
        reason.message,
        'failedAt',
        failedAt,
        ...(replayOf === undefined ? [] : ['replayOf', replayOf]),
      ]
      return runScript(
        redis,
        DEAD_LETTER_OWNED,
        [stream, key],
        [group, consumer, id, ...letter],
      ) as Promise<number>
    }),
  )
  outcomes.forEach((outcome, i) => {
    const item = items[i] as DeadLetterItem
    if (outcome === 1) moved.push(item)
    else if (outcome === -1) refused.push(item.id)
  })
  return { moved, refused }
}
