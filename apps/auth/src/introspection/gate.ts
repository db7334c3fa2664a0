/**
 * The Redis side of one introspection request: the ip limit, and for a token that verified, the per-user limit
 * and the session read. On one Redis they are one script, so a request costs one command; on a Redis Cluster
 * the three keys (per ip, per user, per session) live in different slots and no script may touch them together,
 * so they go as three commands at once.
 */
import { isCluster, type RedisClient } from '@flotilla/streams'
import { HIT_FUNCTION, type RateLimits } from '../rate-limit/rate-limit.ts'
import { LIVENESS_FIELDS, liveUserOf, type SessionStore, sessionKeyOf } from '../sessions/store.ts'

export interface IntrospectionGate {
  /** A token that did not verify: the ip limit only (an unverified `sub` must never spend a user's budget). */
  unverified(ip: string): Promise<void>
  /** A verified token: both limits (429 when either is spent) and the live user of its session, if any. */
  verified(ip: string, userId: string, sessionId: string): Promise<string | undefined>
}

const COMMAND = 'flotillaIntrospectionGate'
/** The one-Redis gate: both limit hits, then the session's liveness fields (KEYS: ip, user, session). */
export const INTROSPECTION_GATE_LUA = `${HIT_FUNCTION}local ip = hit(KEYS[1], ARGV[1], ARGV[2])
local user = hit(KEYS[2], ARGV[3], ARGV[4])
local s = redis.call('HMGET', KEYS[3], ${LIVENESS_FIELDS.map((f) => `'${f}'`).join(', ')})
return {ip, user, s[1], s[2], s[3]}`

type GateReply = [ip: number, user: number, ...fields: (string | null)[]]

export const createIntrospectionGate = (
  redis: RedisClient,
  prefix: string,
  limits: RateLimits,
  sessions: SessionStore,
): IntrospectionGate => {
  const separate = (ip: string, userId: string, sessionId: string) =>
    Promise.all([
      limits.hit('introspect:ip', ip),
      limits.hit('introspect:user', userId),
      sessions.liveUserId(sessionId),
    ]).then(([, , live]) => live)
  const unverified = (ip: string) => limits.hit('introspect:ip', ip)
  if (isCluster(redis)) return { unverified, verified: separate }

  redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: INTROSPECTION_GATE_LUA })
  const send = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<GateReply>>)[
    COMMAND
  ]!.bind(redis)
  return {
    unverified,
    async verified(ip, userId, sessionId) {
      const byIp = limits.of('introspect:ip', ip)
      const byUser = limits.of('introspect:user', userId)
      if (!byIp || !byUser) return separate(ip, userId, sessionId)
      const [ipWait, userWait, ...fields] = await send(
        byIp.key,
        byUser.key,
        sessionKeyOf(prefix, sessionId),
        byIp.windowMs,
        byIp.points,
        byUser.windowMs,
        byUser.points,
      )
      limits.settle('introspect:ip', ipWait)
      limits.settle('introspect:user', userWait)
      return liveUserOf(fields)
    },
  }
}
