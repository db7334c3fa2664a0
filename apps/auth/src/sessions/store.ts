/**
 * Redis records of sessions, refresh-token families and the per-user session index.
 * Keys (prefix `P`): `P:s:{sid}` session hash, `P:s:{sid}:spent` spent refresh-token hashes,
 * `P:u:{uid}:sessions` the user's sessions (sorted set, lexicographic `createdAt:sid` members),
 * `P:s:{sid}:outbox` the session's facts not yet published (`outbox/outbox.ts`), written in the same
 * transaction as the change they describe.
 */
import type { AnyEvent } from '@flotilla/contracts'
import type { RedisClient } from '@flotilla/streams'
import { markPending, OUTBOX_TTL_MS, outboxFields, outboxKey } from '../outbox/outbox.ts'
import type { SessionPosition } from './model.ts'
import { REVOKE_SESSION, ROTATE_REFRESH_TOKEN, SAVE_GRACE_RESULT } from './scripts.ts'

/** A session as stored (times in ms since epoch). */
export interface SessionRecord {
  readonly id: string
  readonly userId: string
  readonly familyId: string
  readonly tenantId?: string
  readonly deviceId?: string
  readonly scopes: string[]
  readonly createdAt: number
  readonly lastRefreshedAt: number
  readonly idleExpiresAt: number
  readonly absoluteExpiresAt: number
  readonly ip?: string
  readonly userAgent?: string
  readonly generation: number
}

/** What `rotate` found. */
export type RotateOutcome =
  | { readonly outcome: 'rotated' | 'reused' | 'reuse_detected'; readonly session: SessionRecord }
  | { readonly outcome: 'grace' | 'expired' | 'missing' | 'unknown' }

const pad = (ms: number) => ms.toString().padStart(15, '0')

const toHash = (record: SessionRecord & { currentHash: string }): Record<string, string> => {
  const out: Record<string, string> = {
    id: record.id,
    userId: record.userId,
    familyId: record.familyId,
    scopes: record.scopes.join(' '),
    createdAt: String(record.createdAt),
    lastRefreshedAt: String(record.lastRefreshedAt),
    idleExpiresAt: String(record.idleExpiresAt),
    absoluteExpiresAt: String(record.absoluteExpiresAt),
    generation: String(record.generation),
    currentHash: record.currentHash,
    previousHash: '',
    rotatedAt: '0',
  }
  for (const key of ['tenantId', 'deviceId', 'ip', 'userAgent'] as const) {
    const value = record[key]
    if (value !== undefined) out[key] = value
  }
  return out
}

const fromHash = (h: Record<string, string>): SessionRecord | undefined => {
  if (!h.id || !h.userId) return undefined
  return {
    id: h.id,
    userId: h.userId,
    familyId: h.familyId ?? h.id,
    ...(h.tenantId ? { tenantId: h.tenantId } : {}),
    ...(h.deviceId ? { deviceId: h.deviceId } : {}),
    scopes: (h.scopes ?? '').split(' ').filter((s) => s.length > 0),
    createdAt: Number(h.createdAt),
    lastRefreshedAt: Number(h.lastRefreshedAt),
    idleExpiresAt: Number(h.idleExpiresAt),
    absoluteExpiresAt: Number(h.absoluteExpiresAt),
    ...(h.ip ? { ip: h.ip } : {}),
    ...(h.userAgent ? { userAgent: h.userAgent } : {}),
    generation: Number(h.generation ?? 0),
  }
}

const pairs = (flat: unknown[]): Record<string, string> => {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

/** The session hash of `sid` (hash-tagged: a session's keys share a slot on a Redis Cluster). */
export const sessionKeyOf = (prefix: string, sid: string) => `${prefix}s:{${sid}}`

/** The fields a liveness check reads, in order (`liveUserOf` takes their values). */
export const LIVENESS_FIELDS = ['userId', 'idleExpiresAt', 'absoluteExpiresAt'] as const

/** The user of a session from its `LIVENESS_FIELDS` values, or undefined when it is gone or has expired. */
export const liveUserOf = (
  [userId, idle, absolute]: readonly (string | null | undefined)[],
  now = Date.now(),
): string | undefined => (userId && Number(idle) > now && Number(absolute) > now ? userId : undefined)

/** Tells every verifier that a session's access tokens are revoked (`createRevocationWriter`). */
export interface SessionRevocations {
  revokeSessions(sessionIds: readonly string[]): Promise<void>
}

/**
 * Creates the session store over one Redis connection and key prefix. Every way a session ends early (revoke,
 * a reused refresh token) goes through `revocations`, so its access tokens are refused everywhere at once.
 */
export const createSessionStore = (redis: RedisClient, prefix: string, revocations: SessionRevocations) => {
  const sessionKey = (sid: string) => sessionKeyOf(prefix, sid)
  const spentKey = (sid: string) => `${prefix}s:{${sid}}:spent`
  const indexKey = (uid: string) => `${prefix}u:{${uid}}:sessions`
  const member = (s: Pick<SessionRecord, 'createdAt' | 'id'>) => `${pad(s.createdAt)}:${s.id}`
  const live = (s: SessionRecord | undefined, now: number) =>
    s && s.idleExpiresAt > now && s.absoluteExpiresAt > now ? s : undefined

  return {
    /** Stores a new session with the hash of its first refresh token, and its facts in its outbox (one MULTI). */
    async create(record: SessionRecord, refreshHash: string, facts: readonly AnyEvent[] = []): Promise<void> {
      const index = indexKey(record.userId)
      if (facts.length > 0) await markPending(redis, prefix, record.id)
      const tx = redis
        .multi()
        .hset(sessionKey(record.id), toHash({ ...record, currentHash: refreshHash }))
        .pexpireat(sessionKey(record.id), record.idleExpiresAt)
      if (facts.length > 0)
        tx.hset(outboxKey(prefix, record.id), ...outboxFields(facts)).pexpire(
          outboxKey(prefix, record.id),
          OUTBOX_TTL_MS,
        )
      const results = await tx.exec()
      const failed = results?.find(([error]) => error)?.[0]
      if (!results || failed) throw failed ?? new Error('session transaction was aborted')
      // The index lives in the user's hash slot; it is updated separately and cleaned lazily on reads.
      // NX sets the first expiry, GT only ever extends it: the index lives as long as its longest session.
      await redis
        .multi()
        .zadd(index, 0, member(record))
        .pexpireat(index, record.absoluteExpiresAt, 'NX')
        .pexpireat(index, record.absoluteExpiresAt, 'GT')
        .exec()
    },

    /** A live session, or undefined when it was revoked or has expired. */
    async get(sid: string, now = Date.now()): Promise<SessionRecord | undefined> {
      return live(fromHash(await redis.hgetall(sessionKey(sid))), now)
    },

    /**
     * The user of a live session, or undefined: the three fields a token check needs, not the whole
     * record (the hot path of introspection and of every user-token request).
     */
    async liveUserId(sid: string, now = Date.now()): Promise<string | undefined> {
      return liveUserOf(await redis.hmget(sessionKey(sid), ...LIVENESS_FIELDS), now)
    },

    /**
     * The user of a session when `hash` is its current or previous refresh token (for per-user rate
     * limits before rotation; a made-up token never counts against the user it names).
     */
    async userIdFor(sid: string, hash: string): Promise<string | undefined> {
      const [userId, current, previous] = await redis.hmget(
        sessionKey(sid),
        'userId',
        'currentHash',
        'previousHash',
      )
      return userId && (hash === current || hash === previous) ? userId : undefined
    },

    /**
     * Atomically spends `presentedHash` and makes `newHash` current (see ROTATE_REFRESH_TOKEN). A reuse revokes
     * the family only when `reuseFacts` are given (they go to the outbox in the same script); without them it
     * answers `reuse_detected` with the record, changing nothing.
     */
    async rotate(
      sid: string,
      presentedHash: string,
      newHash: string,
      idleMs: number,
      graceMs: number,
      reuseFacts: readonly AnyEvent[] = [],
    ) {
      if (reuseFacts.length > 0) await markPending(redis, prefix, sid)
      const raw = (await redis.eval(
        ROTATE_REFRESH_TOKEN,
        3,
        sessionKey(sid),
        spentKey(sid),
        outboxKey(prefix, sid),
        presentedHash,
        newHash,
        Date.now(),
        idleMs,
        graceMs,
        OUTBOX_TTL_MS,
        ...outboxFields(reuseFacts),
      )) as unknown[]
      const outcome = String(raw[0]) as RotateOutcome['outcome']
      // The script deleted the family: its access tokens must die with it.
      if (outcome === 'reused') await revocations.revokeSessions([sid])
      if (outcome === 'rotated' || outcome === 'reused' || outcome === 'reuse_detected') {
        const session = fromHash(pairs(raw.slice(1)))
        if (session) return { outcome, session } satisfies RotateOutcome
        return { outcome: 'missing' } satisfies RotateOutcome
      }
      return { outcome } as RotateOutcome
    },

    /** Keeps the winner's sealed result for a grace-window loser. */
    async saveGraceResult(sid: string, currentHash: string, sealed: string): Promise<boolean> {
      return (await redis.eval(SAVE_GRACE_RESULT, 1, sessionKey(sid), currentHash, sealed)) === 1
    },

    /** The winner's sealed result if the previous token is `presentedHash`. */
    async graceResult(sid: string, presentedHash: string): Promise<string | undefined> {
      const [previous, sealed] = await redis.hmget(sessionKey(sid), 'previousHash', 'graceResult')
      return previous === presentedHash && sealed ? sealed : undefined
    },

    /**
     * Deletes a session and revokes its access tokens everywhere; returns it when this call deleted it (so the
     * revocation is announced once).
     */
    async revoke(sid: string): Promise<SessionRecord | undefined> {
      return (await this.revokeWithFacts(sid))?.session
    },

    /**
     * Deletes a session like `revoke`, and writes the facts `factsOf` builds from it to its outbox in the same
     * script: they describe the record read just before, and the fields they use never change.
     */
    async revokeWithFacts(
      sid: string,
      factsOf?: (session: SessionRecord) => readonly AnyEvent[],
    ): Promise<{ session: SessionRecord; facts: readonly AnyEvent[] } | undefined> {
      let facts: readonly AnyEvent[] = []
      if (factsOf) {
        const before = fromHash(await redis.hgetall(sessionKey(sid)))
        if (!before) return undefined
        facts = factsOf(before)
        if (facts.length > 0) await markPending(redis, prefix, sid)
      }
      // Its access tokens are revoked first: a crash in between leaves a revoked live session, never a deleted one
      // whose tokens still pass.
      await revocations.revokeSessions([sid])
      const raw = (await redis.eval(
        REVOKE_SESSION,
        3,
        sessionKey(sid),
        spentKey(sid),
        outboxKey(prefix, sid),
        OUTBOX_TTL_MS,
        ...outboxFields(facts),
      )) as unknown[]
      const session = fromHash(pairs(raw))
      if (!session) return undefined
      await redis.zrem(indexKey(session.userId), member(session))
      return { session, facts }
    },

    /** Removes a session from its user's index (after the family was deleted by a reuse). */
    async unindex(session: SessionRecord): Promise<void> {
      await redis.zrem(indexKey(session.userId), member(session))
    },

    /**
     * One page of a user's live sessions, newest first, starting after `after` (the `next` of the previous page).
     * Index entries whose session is gone are removed on the way.
     */
    async listByUser(userId: string, limit: number, after?: SessionPosition) {
      const index = indexKey(userId)
      const sessions: SessionRecord[] = []
      let from = after ? `(${member(after)}` : '+'
      let next: string | undefined
      const now = Date.now()
      while (sessions.length < limit) {
        const members = await redis.zrange(index, from, '-', 'BYLEX', 'REV', 'LIMIT', 0, limit)
        if (members.length === 0) break
        const found = await Promise.all(members.map((m) => this.get(m.slice(m.indexOf(':') + 1), now)))
        const stale: string[] = []
        for (const [i, m] of members.entries()) {
          const s = found[i]
          if (!s) stale.push(m)
          else if (sessions.length < limit) {
            sessions.push(s)
            next = m
          }
        }
        if (stale.length > 0) await redis.zrem(index, ...stale)
        from = `(${members.at(-1)}`
        if (members.length < limit) break
      }
      const more = next
        ? (await redis.zrange(index, `(${next}`, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)).length > 0
        : false
      const last = sessions.at(-1)
      return { sessions, next: more && last ? { createdAt: last.createdAt, id: last.id } : undefined }
    },

    /** Every session id in a user's index (live or not yet cleaned). */
    async sessionIdsOf(userId: string): Promise<string[]> {
      const members = await redis.zrange(indexKey(userId), 0, -1)
      return members.map((m) => m.slice(m.indexOf(':') + 1))
    },
  }
}
export type SessionStore = ReturnType<typeof createSessionStore>
