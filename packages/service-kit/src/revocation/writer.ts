/**
 * The auth side of revocation: records a revoked session, a user's "revoked before" time or a retired signing
 * key in its sorted set and publishes it on the revocation channel, in one script (the write is never missed by
 * a verifier that loads the set after subscribing, and the message never announces what is not written).
 */
import type { RedisClient } from '@flotilla/streams'
import { type RevocationEntry, type RevocationKind, revocationNames } from './names.ts'

/**
 * KEYS: the sorted set. ARGV: prune below this score, TTL of the set (ms), channel, message, then score/member
 * pairs. GT keeps the later time when an id is revoked twice; the set lives as long as its newest entry needs.
 */
const RECORD_REVOCATION = `
redis.call('ZADD', KEYS[1], 'GT', unpack(ARGV, 5))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`

/** A retired key is refused for a day (verifiers with a remote JWKS forget it within `jwksCacheMaxAgeMs` anyway). */
export const RETIRED_KEY_RETENTION_MS = 24 * 3600 * 1000

/** Entries per script call (Lua's `unpack` has a stack limit). */
const CHUNK = 500

export interface RevocationWriterOptions {
  /** The request-path connection. */
  readonly redis: RedisClient
  /** The events stream the services share (names the sets and the channel). */
  readonly stream: string
  /** The longest an access token can stay valid after it is issued (TTL plus clock tolerance), in ms. */
  readonly tokenLifetimeMs: number
  /** @defaultValue Date.now */
  readonly clock?: () => number
}

/** Creates auth's revocation writer. */
export const createRevocationWriter = (options: RevocationWriterOptions) => {
  const { redis, tokenLifetimeMs } = options
  const clock = options.clock ?? Date.now
  const names = revocationNames(options.stream)

  /** How long an entry of a kind is kept: as long as a token could still be valid, a retired key for a day. */
  const retentionOf = (kind: RevocationKind) => (kind === 'keys' ? RETIRED_KEY_RETENTION_MS : tokenLifetimeMs)

  const record = async (kind: RevocationKind, entries: readonly RevocationEntry[], pruneBelow: number) => {
    const ttl = retentionOf(kind)
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK)
      await redis.eval(
        RECORD_REVOCATION,
        1,
        names.sets[kind],
        pruneBelow,
        ttl,
        names.channel,
        JSON.stringify({ kind, entries: chunk }),
        ...chunk.flatMap(([id, score]) => [score, id]),
      )
    }
  }

  /** Records ids refused from now until their kind's retention ends; prunes the kind's expired entries. */
  const recordUntilExpiry = (kind: 'sessions' | 'keys', ids: readonly string[]) => {
    const now = clock()
    const until = now + retentionOf(kind)
    return record(
      kind,
      ids.map((id) => [id, until]),
      now,
    )
  }

  return {
    names,
    /** Every access token of these sessions is refused until it would have expired anyway. */
    async revokeSessions(sessionIds: readonly string[]): Promise<void> {
      await recordUntilExpiry('sessions', sessionIds)
    },
    /** Every access token of `userId` issued before `before` (ms; a whole second earlier) is refused. */
    async revokeUserBefore(userId: string, before: number): Promise<void> {
      await record('users', [[userId, before]], clock() - tokenLifetimeMs)
    },
    /** Tokens signed by these keys are refused at once, whatever the verifiers' JWKS caches hold. */
    async retireKeys(kids: readonly string[]): Promise<void> {
      await recordUntilExpiry('keys', kids)
    },
  }
}
export type RevocationWriter = ReturnType<typeof createRevocationWriter>
