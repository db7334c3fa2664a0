/**
 * Sessions and refresh-token rotation: create, refresh (spent exactly once, with a grace window for a
 * concurrent loser and family revocation on reuse), revoke, list.
 */
import type { AnyEvent } from '@flotilla/contracts'
import type { DeviceStore } from '../devices/store.ts'
import { AppError, authError, notFound } from '../errors.ts'
import type { Cause } from '../events.ts'
import type { Logger } from '../logger.ts'
import type { AuthObserver, RefreshOutcome } from '../observe.ts'
import type { FactOutbox } from '../outbox/outbox.ts'
import type { AccessTokens } from '../tokens/access-token.ts'
import { refreshReusedFacts, sessionCreatedFacts, sessionRevokedFact } from './facts.ts'
import { createGrace } from './grace.ts'
import type { CreateSessionBody, SessionPosition, SessionRevokedReason, TokenPair } from './model.ts'
import { hashRefreshToken, newRefreshToken, parseRefreshToken } from './refresh-token.ts'
import type { SessionRecord, SessionStore } from './store.ts'

export interface SessionPolicy {
  /** Sliding lifetime: a session unused this long ends. */
  readonly idleMs: number
  /** Hard lifetime from creation. */
  readonly absoluteMs: number
  /** How long the immediately previous refresh token returns the winner's result. */
  readonly graceMs: number
  /** How long a grace-window loser waits for the winner's result before a 409. @defaultValue 2000 */
  readonly graceWaitMs?: number
}

export interface SessionServiceDeps {
  readonly sessions: SessionStore
  readonly devices: DeviceStore
  readonly tokens: AccessTokens
  /** Publishes the facts each change wrote to its session's outbox (the relay retries what fails). */
  readonly outbox: FactOutbox
  readonly logger: Logger
  readonly observer: AuthObserver
  readonly policy: SessionPolicy
}

const iso = (ms: number) => new Date(ms).toISOString()
const REFUSALS: Record<string, RefreshOutcome> = {
  REFRESH_IN_PROGRESS: 'conflict',
  REFRESH_TOKEN_REUSED: 'reused',
  SESSION_EXPIRED: 'expired',
}
const invalidRefresh = (message = 'refresh token is invalid') =>
  authError(401, 'INVALID_REFRESH_TOKEN', message)

/** Creates the session service. */
export const createSessionService = (deps: SessionServiceDeps) => {
  const { sessions, devices, tokens, outbox, logger, observer, policy } = deps
  const grace = createGrace(sessions, policy.graceWaitMs ?? 2000)

  const pairFor = async (session: SessionRecord, refreshToken: string): Promise<TokenPair> => {
    const access = await tokens.issue(
      {
        userId: session.userId,
        sessionId: session.id,
        scopes: session.scopes,
        ...(session.tenantId ? { tenantId: session.tenantId } : {}),
        ...(session.deviceId ? { deviceId: session.deviceId } : {}),
      },
      session.absoluteExpiresAt,
    )
    return {
      tokenType: 'Bearer',
      sessionId: session.id,
      accessToken: access.token,
      accessTokenExpiresAt: iso(access.expiresAt * 1000),
      refreshToken,
      refreshTokenExpiresAt: iso(session.idleExpiresAt),
      sessionExpiresAt: iso(session.absoluteExpiresAt),
    }
  }

  /** Spends a refresh token (see ROTATE_REFRESH_TOKEN for every outcome). */
  const rotate = async (
    token: string,
    cause: Cause & { ip?: string; userAgent?: string },
  ): Promise<['rotated' | 'grace', TokenPair]> => {
    const parsed = parseRefreshToken(token)
    if (!parsed) throw invalidRefresh('refresh token is malformed')
    const sid = parsed.sessionId
    const hash = hashRefreshToken(token)
    const next = newRefreshToken(sid)
    const nextHash = hashRefreshToken(next)
    let result = await sessions.rotate(sid, hash, nextHash, policy.idleMs, policy.graceMs)
    let reuseFacts: AnyEvent[] = []
    if (result.outcome === 'reuse_detected') {
      // Revoke the family and record the alert together: the second call writes both in one script.
      reuseFacts = refreshReusedFacts(result.session, cause)
      result = await sessions.rotate(sid, hash, nextHash, policy.idleMs, policy.graceMs, reuseFacts)
    }
    switch (result.outcome) {
      case 'rotated': {
        const pair = await pairFor(result.session, next)
        await grace.save(sid, token, hash, hashRefreshToken(next), pair)
        return ['rotated', pair]
      }
      case 'grace':
        return ['grace', await grace.await(sid, token, hash)]
      case 'reused': {
        const s = result.session
        await sessions.unindex(s)
        logger.warn(
          { sessionId: s.id, userId: s.userId, familyId: s.familyId },
          'refresh token reused: family revoked',
        )
        observer.sessionsRevoked('refresh_reused', 1)
        await outbox.publish(s.id, reuseFacts)
        throw authError(
          401,
          'REFRESH_TOKEN_REUSED',
          'refresh token was already used: the session was revoked',
        )
      }
      case 'expired':
        throw authError(401, 'SESSION_EXPIRED', 'the session has expired')
      default:
        throw invalidRefresh()
    }
  }

  /**
   * Revokes one session (of `userId` only, when given) with its `auth.session.revoked` written to its outbox in
   * the same script, then publishes it; resolves to the session when this call revoked it.
   */
  const revokeAnnounced = async (
    sessionId: string,
    reason: SessionRevokedReason,
    cause: Cause,
    userId?: string,
  ): Promise<SessionRecord | undefined> => {
    const gone = await sessions.revokeWithFacts(sessionId, (s) =>
      userId === undefined || s.userId === userId ? [sessionRevokedFact(s, reason, cause)] : [],
    )
    if (!gone || (userId !== undefined && gone.session.userId !== userId)) return undefined
    await outbox.publish(sessionId, gone.facts)
    return gone.session
  }

  return {
    /** Starts a session (always a new id: no fixation) and returns its first token pair. */
    async create(input: CreateSessionBody, cause: Cause) {
      const now = Date.now()
      const sessionId = crypto.randomUUID()
      const device = input.device
        ? await devices.sighted(
            input.userId,
            { ...input.device, id: input.device.id ?? crypto.randomUUID() },
            now + policy.absoluteMs,
          )
        : undefined
      const absoluteExpiresAt = now + policy.absoluteMs
      const session: SessionRecord = {
        id: sessionId,
        userId: input.userId,
        familyId: crypto.randomUUID(),
        scopes: [...new Set(input.scopes ?? [])],
        createdAt: now,
        lastRefreshedAt: now,
        idleExpiresAt: Math.min(now + policy.idleMs, absoluteExpiresAt),
        absoluteExpiresAt,
        generation: 0,
        ...(input.tenantId ? { tenantId: input.tenantId } : {}),
        ...(device ? { deviceId: device.device.id } : {}),
        ...(input.device?.ip ? { ip: input.device.ip } : {}),
        ...(input.device?.userAgent ? { userAgent: input.device.userAgent } : {}),
      }
      const refreshToken = newRefreshToken(sessionId)
      const facts = sessionCreatedFacts(session, device, cause)
      await sessions.create(session, hashRefreshToken(refreshToken), facts)
      const pair = await pairFor(session, refreshToken)
      observer.sessionCreated()
      await outbox.publish(sessionId, facts)
      return { ...pair, device: device ? { id: device.device.id, isNew: device.isNew } : null }
    },

    /** The user of a genuine refresh token (for per-user rate limits), without spending it. */
    async userOfRefreshToken(token: string): Promise<string | undefined> {
      const parsed = parseRefreshToken(token)
      return parsed ? sessions.userIdFor(parsed.sessionId, hashRefreshToken(token)) : undefined
    },

    /** Spends a refresh token and returns a new pair; every outcome is counted. */
    async refresh(token: string, cause: Cause & { ip?: string; userAgent?: string }): Promise<TokenPair> {
      try {
        const [outcome, pair] = await rotate(token, cause)
        observer.refreshed(outcome)
        return pair
      } catch (error) {
        observer.refreshed(REFUSALS[error instanceof AppError ? error.code : ''] ?? 'invalid')
        throw error
      }
    },

    /** A live session, or undefined. */
    get: (sessionId: string) => sessions.get(sessionId),

    /** Revokes one session; returns it when it was live (and announces it). */
    async revoke(sessionId: string, reason: SessionRevokedReason, cause: Cause) {
      const gone = await revokeAnnounced(sessionId, reason, cause)
      if (gone) observer.sessionsRevoked(reason, 1)
      return gone
    },

    /** Revokes every session of a user except `except`; returns the revoked sessions. */
    async revokeAllOf(
      userId: string,
      reason: SessionRevokedReason,
      cause: Cause,
      options: { except?: string } = {},
    ) {
      const revoked: SessionRecord[] = []
      for (const sid of await sessions.sessionIdsOf(userId)) {
        if (sid === options.except) continue
        const gone = await revokeAnnounced(sid, reason, cause, userId)
        if (gone) revoked.push(gone)
      }
      observer.sessionsRevoked(reason, revoked.length)
      return revoked
    },

    /** Forgets a user's device and revokes its sessions; false when the user has no such device. */
    async removeDevice(userId: string, deviceId: string, cause: Cause): Promise<boolean> {
      if (!(await devices.get(userId, deviceId))) return false
      const revoked: SessionRecord[] = []
      for (const sid of await sessions.sessionIdsOf(userId)) {
        const session = await sessions.get(sid)
        if (session?.deviceId !== deviceId) continue
        const gone = await revokeAnnounced(sid, 'device_removed', cause, userId)
        if (gone) revoked.push(gone)
      }
      await devices.remove(userId, deviceId)
      observer.sessionsRevoked('device_removed', revoked.length)
      return true
    },

    /** One page of a user's sessions. */
    list: (userId: string, limit: number, after?: SessionPosition) =>
      sessions.listByUser(userId, limit, after),

    /** Throws 404 unless the session is live and belongs to `userId`. */
    async requireOwned(userId: string, sessionId: string): Promise<SessionRecord> {
      const session = await sessions.get(sessionId)
      if (!session || session.userId !== userId) throw notFound('session not found')
      return session
    },
  }
}
export type SessionService = ReturnType<typeof createSessionService>
