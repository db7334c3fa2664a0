/**
 * The verifier side of revocation: a local copy of the revoked sessions, users and keys, kept current by the
 * revocation channel, so checking a token costs three map lookups. The copy counts only while the subscriber
 * connection is up and has been subscribed since the sets were last loaded; otherwise (not started yet, connection
 * lost, reconnecting) every check reads the sets in Redis, and when Redis cannot answer the request fails with 503
 * `DEPENDENCY_UNAVAILABLE` (fail closed: an unknown revocation state never lets a token through).
 */
import { onClient, type RedisClient } from '@flotilla/streams'
import { dependencyUnavailable } from '../errors/app-error.ts'
import type { Logger } from '../logging/logger.ts'
import {
  parseRevocationMessage,
  REVOCATION_KINDS,
  type RevocationEntry,
  type RevocationKind,
  revocationNames,
} from './names.ts'

/** What a token check needs from a verified token. */
export interface RevocationSubject {
  readonly kid?: string
  readonly sid?: string
  readonly sub?: string
  /** Issued at, seconds since epoch. */
  readonly iat?: number
}

export type RevocationReason = 'signing key retired' | 'session revoked' | 'user tokens revoked'

export interface RevocationList {
  /**
   * Why the token is revoked, or undefined: answered at once from the local copy while it is current (no promise,
   * so the hot path costs no extra turn of the event loop), else a promise of the answer read from Redis, which
   * rejects with 503 `DEPENDENCY_UNAVAILABLE` when Redis cannot answer.
   */
  check(subject: RevocationSubject): RevocationReason | undefined | Promise<RevocationReason | undefined>
  /** Called with the kids of every key retirement heard on the channel (the verifier reloads its JWKS). */
  onKeysRetired(listener: (kids: readonly string[]) => void): void
  /** Subscribes and loads the sets (the first `check` does it too). Idempotent. */
  start(): void
  /** True while the local copy is current (checks answer from memory). */
  readonly synced: boolean
  close(): Promise<void>
}

export interface RevocationListOptions {
  /** The request-path connection: loads the sets, answers checks while the copy is not current. */
  readonly redis: RedisClient
  /** Opens the subscriber connection (a connection in subscriber mode serves nothing else). */
  readonly subscriber: () => RedisClient
  /** The events stream the services share (names the sets and the channel). */
  readonly stream: string
  readonly logger: Pick<Logger, 'info' | 'warn'>
  /** How long a user's "revoked before" time is kept (the verifiers' maximum token age). @defaultValue 86400000 */
  readonly userRetentionMs?: number
  /** @defaultValue Date.now */
  readonly clock?: () => number
}

const SWEEP_INTERVAL_MS = 60_000

/** A user's tokens issued in an earlier second than `before` are revoked (iat has whole seconds). */
const revokedBefore = (iat: number, before: number) => iat < Math.floor(before / 1000)

/**
 * Creates the revocation list of one process.
 * @example const revocations = createRevocationList({ redis, subscriber: () => new Redis(url), stream, logger })
 */
export const createRevocationList = (options: RevocationListOptions): RevocationList => {
  const { redis, logger } = options
  const clock = options.clock ?? Date.now
  const userRetentionMs = options.userRetentionMs ?? 86_400_000
  const names = revocationNames(options.stream)
  const local: Record<RevocationKind, Map<string, number>> = {
    sessions: new Map(),
    users: new Map(),
    keys: new Map(),
  }
  const keyListeners: ((kids: readonly string[]) => void)[] = []
  let subscriber: RedisClient | undefined
  let sweeper: ReturnType<typeof setInterval> | undefined
  let synced = false
  // Bumped on every connection loss: a load that started before it must not mark the copy current.
  let generation = 0

  const apply = (kind: RevocationKind, entries: readonly RevocationEntry[]) => {
    const map = local[kind]
    for (const [id, score] of entries) map.set(id, Math.max(map.get(id) ?? score, score))
  }

  const sweep = () => {
    const now = clock()
    for (const kind of ['sessions', 'keys'] as const)
      for (const [id, until] of local[kind]) if (until <= now) local[kind].delete(id)
    for (const [id, before] of local.users) if (before + userRetentionMs <= now) local.users.delete(id)
  }

  const load = async (): Promise<Record<RevocationKind, RevocationEntry[]>> => {
    const now = clock()
    const read = async (kind: RevocationKind) => {
      const min = kind === 'users' ? now - userRetentionMs : now
      const flat = await redis.zrangebyscore(names.sets[kind], min, '+inf', 'WITHSCORES')
      const entries: RevocationEntry[] = []
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i] as string, Number(flat[i + 1])])
      return entries
    }
    const [sessions, users, keys] = await Promise.all(REVOCATION_KINDS.map(read))
    return { sessions: sessions ?? [], users: users ?? [], keys: keys ?? [] }
  }

  const resync = async (connection: RedisClient) => {
    const mine = ++generation
    try {
      await connection.subscribe(names.channel)
      const loaded = await load()
      if (mine !== generation) return
      for (const kind of REVOCATION_KINDS) apply(kind, loaded[kind])
      synced = true
      logger.info(
        { sessions: local.sessions.size, users: local.users.size, keys: local.keys.size },
        'revocation list loaded',
      )
    } catch (error) {
      logger.warn({ err: error }, 'revocation list could not be loaded; checks read Redis until it is')
    }
  }

  const onMessage = (channel: string, raw: string) => {
    if (channel !== names.channel) return
    const message = parseRevocationMessage(raw)
    if (!message) return
    apply(message.kind, message.entries)
    if (message.kind === 'keys' && message.entries.length > 0) {
      const kids = message.entries.map(([kid]) => kid)
      for (const listener of keyListeners) listener(kids)
    }
  }

  const localCheck = (s: RevocationSubject, now: number): RevocationReason | undefined => {
    if (s.kid !== undefined && (local.keys.get(s.kid) ?? 0) > now) return 'signing key retired'
    if (s.sid !== undefined && (local.sessions.get(s.sid) ?? 0) > now) return 'session revoked'
    if (s.sub !== undefined && s.iat !== undefined) {
      const before = local.users.get(s.sub)
      if (before !== undefined && revokedBefore(s.iat, before)) return 'user tokens revoked'
    }
    return undefined
  }

  /** The copy is not current: ask Redis (one round trip), failing closed. */
  const remoteCheck = async (s: RevocationSubject, now: number): Promise<RevocationReason | undefined> => {
    let scores: (string | null)[]
    try {
      scores = await Promise.all([
        s.kid === undefined ? null : redis.zscore(names.sets.keys, s.kid),
        s.sid === undefined ? null : redis.zscore(names.sets.sessions, s.sid),
        s.sub === undefined ? null : redis.zscore(names.sets.users, s.sub),
      ])
    } catch (cause) {
      throw dependencyUnavailable('redis', { cause })
    }
    const [key, session, user] = scores
    if (key !== null && key !== undefined && Number(key) > now) return 'signing key retired'
    if (session !== null && session !== undefined && Number(session) > now) return 'session revoked'
    if (user !== null && user !== undefined && s.iat !== undefined && revokedBefore(s.iat, Number(user)))
      return 'user tokens revoked'
    return undefined
  }

  const list: RevocationList = {
    check(subject) {
      if (!subscriber) list.start()
      const now = clock()
      return synced ? localCheck(subject, now) : remoteCheck(subject, now)
    },
    onKeysRetired(listener) {
      keyListeners.push(listener)
    },
    start() {
      if (subscriber) return
      const connection = options.subscriber()
      subscriber = connection
      onClient(connection, 'message', onMessage)
      onClient(connection, 'ready', () => void resync(connection))
      onClient(connection, 'close', () => {
        synced = false
        generation++
      })
      if (connection.status === 'ready') void resync(connection)
      sweeper = setInterval(sweep, SWEEP_INTERVAL_MS)
      sweeper.unref?.()
    },
    get synced() {
      return synced
    },
    async close() {
      if (sweeper) clearInterval(sweeper)
      synced = false
      generation++
      const connection = subscriber
      if (!connection) return
      connection.removeAllListeners('ready')
      connection.disconnect()
    },
  }
  return list
}
