/** The dead-letter stream of one group: list (paged), get, replay, purge, count. */
import { deadLetterStreamKey } from '@flotilla/contracts'
import type { RedisClient } from './connection.ts'
import { fieldsToRecord, parseEntries, type RawEntry } from './consumer/replies.ts'
import { REPLAY_DEAD_LETTER, runScript } from './scripts.ts'

/** One dead letter as stored on `{stream}:dlq:<group>`. */
export interface DeadLetter {
  /** Its id on the dead-letter stream. */
  readonly id: string
  /** The entry's id on the main stream. */
  readonly originalId: string
  readonly originalStream: string
  readonly group: string
  /** The entry's `type` field, as it was (`''` when missing). */
  readonly type: string
  /** The entry's `event` field, raw, as it was (it may be malformed: that may be why it is here). */
  readonly event: string
  /** How many times it was delivered before it was moved. */
  readonly deliveries: number
  readonly error: { readonly code: string; readonly message: string }
  /** ISO-8601 time of the move. */
  readonly failedAt: string
  /** Set when the entry was itself a replay of an earlier dead letter. */
  readonly replayOf?: string
}

const MAX_ID_PART = 2n ** 64n - 1n
// Redis's own spelling: no sign, no leading zeros, at most 20 digits a part (the range is checked below).
const ENTRY_ID = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/
const LAST_ID = `${MAX_ID_PART}-${MAX_ID_PART}`

/**
 * True for an id a stream entry can have: `<ms>-<seq>` as Redis writes it, both parts unsigned 64-bit, above
 * `0-0` (which Redis never gives an entry). Anything else makes XRANGE fail, so it is refused before.
 * @example isEntryId('1764237600000-0') // true; isEntryId('99999999999999999999-0') // false
 */
export const isEntryId = (value: string): boolean => {
  const match = ENTRY_ID.exec(value)
  if (!match) return false
  const ms = BigInt(match[1] ?? '')
  const seq = BigInt(match[2] ?? '')
  return ms <= MAX_ID_PART && seq <= MAX_ID_PART && (ms > 0n || seq > 0n)
}

/** A dead-letter id or cursor that is not a stream entry id (see `isEntryId`). */
export class InvalidEntryIdError extends Error {
  override readonly name = 'InvalidEntryIdError'
  readonly code = 'INVALID_STREAM_ID'
  constructor(readonly id: string) {
    super(`"${id.slice(0, 64)}" is not a stream entry id (<ms>-<seq>, each 0…2^64-1, above 0-0)`)
  }
}

const requireEntryId = (id: string): string => {
  if (!isEntryId(id)) throw new InvalidEntryIdError(id)
  return id
}

export interface DeadLetterPage {
  readonly items: DeadLetter[]
  /** Pass back as `cursor` for the next page; null when there is none. */
  readonly nextCursor: string | null
}

export interface DeadLetters {
  readonly key: string
  /**
   * One page, newest first by default (`order: 'oldest'` for oldest first), after `cursor` (exclusive).
   * `limit` is capped at 1000. Every id argument here must pass `isEntryId`, else `InvalidEntryIdError`.
   * @defaultValue { limit: 50, order: 'newest' }
   */
  list(options?: { cursor?: string; limit?: number; order?: 'newest' | 'oldest' }): Promise<DeadLetterPage>
  get(id: string): Promise<DeadLetter | null>
  /**
   * Re-publishes the original `type` + `event` on the main stream with `replayFor=<group>` (only this group
   * takes it) and `replayOf=<original id>`, and removes the dead letter, atomically. Resolves to the new stream
   * id, or null when no such dead letter exists.
   */
  replay(id: string): Promise<string | null>
  /** Deletes one dead letter; false when it did not exist. */
  purge(id: string): Promise<boolean>
  /** Deletes them all; resolves to how many there were. */
  purgeAll(): Promise<number>
  count(): Promise<number>
}

const toDeadLetter = ({ id, fields }: RawEntry): DeadLetter => {
  const f = fieldsToRecord(fields ?? [])
  return {
    id,
    originalId: f.originalId ?? '',
    originalStream: f.originalStream ?? '',
    group: f.group ?? '',
    type: f.type ?? '',
    event: f.event ?? '',
    deliveries: Number(f.deliveries ?? 0),
    error: { code: f.errorCode ?? '', message: f.error ?? '' },
    failedAt: f.failedAt ?? '',
    ...(f.replayOf === undefined ? {} : { replayOf: f.replayOf }),
  }
}

/**
 * Dead letters of one group.
 * @example const dlq = createDeadLetters({ redis, stream: 'events', group: 'audit' }); await dlq.replay(id)
 */
export const createDeadLetters = ({
  redis,
  stream,
  group,
}: {
  redis: RedisClient
  stream: string
  group: string
}): DeadLetters => {
  const key = deadLetterStreamKey(stream, group)
  return {
    key,
    async list({ cursor, limit = 50, order = 'newest' } = {}) {
      const count = Math.max(1, Math.min(1000, Math.floor(limit)))
      if (cursor !== undefined) requireEntryId(cursor)
      // Nothing comes after the last possible id (and Redis refuses an exclusive range past it).
      if (cursor === LAST_ID && order === 'oldest') return { items: [], nextCursor: null }
      // Fetch one more than asked, to know whether another page exists.
      const reply =
        order === 'newest'
          ? await redis.xrevrange(key, cursor ? `(${cursor}` : '+', '-', 'COUNT', count + 1)
          : await redis.xrange(key, cursor ? `(${cursor}` : '-', '+', 'COUNT', count + 1)
      const entries = parseEntries(reply)
      const items = entries.slice(0, count).map(toDeadLetter)
      return { items, nextCursor: entries.length > count ? (items.at(-1)?.id ?? null) : null }
    },
    async get(id) {
      requireEntryId(id)
      const entry = parseEntries(await redis.xrange(key, id, id))[0]
      return entry ? toDeadLetter(entry) : null
    },
    async replay(id) {
      requireEntryId(id)
      const result = await runScript(redis, REPLAY_DEAD_LETTER, [key, stream], [id, group])
      return typeof result === 'string' ? result : null
    },
    async purge(id) {
      requireEntryId(id)
      return (await redis.xdel(key, id)) > 0
    },
    async purgeAll() {
      const results = await redis.multi().xlen(key).del(key).exec()
      return Number(results?.[0]?.[1] ?? 0)
    },
    count: () => redis.xlen(key),
  }
}
