/**
 * Sessions and refresh-token rotation: create, refresh (spent exactly once, with a grace window for a
 * concurrent loser and family revocation on reuse), revoke, list.
 */
import type { AnyEvent } from '@flotilla/contracts'
import type { DeviceStore } from '../devices/store.ts'
import { authError, notFound } from '../errors.ts'
import { type Cause, authEvent, type EventSink, emit } from '../events.ts'
import { deriveSealingKey } from '../keys/sealing.ts'
import type { Logger } from '../logger.ts'
import type { AccessTokens } from '../tokens/access-token.ts'
import type { CreateSessionBody, SessionRevokedReason, TokenPair } from './model.ts'
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
  readonly events: EventSink
  readonly logger: Logger
  readonly policy: SessionPolicy
}

const iso = (ms: number) => new Date(ms).toISOString()
const invalidRefresh = (message = 'refresh token is invalid') =>
  authError(401, 'INVALID_REFRESH_TOKEN', message)

/** Creates the session service. */
export const createSessionService = (deps: SessionServiceDeps) => {
  const { sessions, devices, tokens, events, logger, policy } = deps
  const graceWaitMs = policy.graceWaitMs ?? 2000

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

  const revokedEvent = (session: SessionRecord, reason: SessionRevokedReason, cause: Cause, id?: string) =>
    authEvent('auth.session.revoked', { sessionId: session.id, userId: session.userId, reason }, cause, {
      subject: { type: 'session', id: session.id },
      ...(session.tenantId ? { tenantId: session.tenantId } : {}),
      ...(id ? { id } : {}),
    })

  /** The sealing key for a grace result: derived from the old token, so only its holder can open it. */
  const graceSealer = (presentedToken: string) => deriveSealingKey(presentedToken, 'refresh-grace')

  const awaitGraceResult = async (sid: string, token: string, hash: string): Promise<TokenPair> => {
    const sealer = await graceSealer(token)
    const deadline = Date.now() + graceWaitMs
    for (;;) {
      const sealed = await sessions.graceResult(sid, hash)
      if (sealed) return JSON.parse(await sealer.open(sealed, `${sid}:${hash}`)) as TokenPair
      if (Date.now() >= deadline) break
      await Bun.sleep(25)
    }
    throw authError(
      409,
      'REFRESH_IN_PROGRESS',
      'a concurrent refresh is finishing: retry with the same token',
      1,
    )
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
      await sessions.create(session, hashRefreshToken(refreshToken))
      const pair = await pairFor(session, refreshToken)
      const envelope = {
        subject: { type: 'session', id: sessionId },
        ...(session.tenantId ? { tenantId: session.tenantId } : {}),
      }
      const facts: AnyEvent[] = [
        authEvent(
          'auth.session.created',
          {
            sessionId,
            userId: session.userId,
            scopes: session.scopes,
            expiresAt: iso(absoluteExpiresAt),
            ...(session.deviceId ? { deviceId: session.deviceId } : {}),
          },
          cause,
          envelope,
        ),
      ]
      if (device?.isNew) {
        const d = device.device
        facts.push(
          authEvent(
            'auth.device.added',
            {
              userId: session.userId,
              deviceId: d.id,
              ...(d.name ? { name: d.name } : {}),
              ...(d.userAgent ? { userAgent: d.userAgent } : {}),
              ...(d.ip ? { ip: d.ip } : {}),
            },
            cause,
            {
              subject: { type: 'device', id: d.id },
              ...(session.tenantId ? { tenantId: session.tenantId } : {}),
            },
          ),
        )
      }
      await emit(events, logger, facts)
      return { ...pair, device: device ? { id: device.device.id, isNew: device.isNew } : null }
    },

    /** The user of a genuine refresh token (for per-user rate limits), without spending it. */
    async userOfRefreshToken(token: string): Promise<string | undefined> {
      const parsed = parseRefreshToken(token)
      return parsed ? sessions.userIdFor(parsed.sessionId, hashRefreshToken(token)) : undefined
    },

    /** Spends a refresh token and returns a new pair (see ROTATE_REFRESH_TOKEN for every outcome). */
    async refresh(token: string, cause: Cause & { ip?: string; userAgent?: string }): Promise<TokenPair> {
      const parsed = parseRefreshToken(token)
      if (!parsed) throw invalidRefresh('refresh token is malformed')
      const sid = parsed.sessionId
      const hash = hashRefreshToken(token)
      const next = newRefreshToken(sid)
      const result = await sessions.rotate(sid, hash, hashRefreshToken(next), policy.idleMs, policy.graceMs)
      switch (result.outcome) {
        case 'rotated': {
          const pair = await pairFor(result.session, next)
          const sealer = await graceSealer(token)
          await sessions.saveGraceResult(
            sid,
            hashRefreshToken(next),
            await sealer.seal(JSON.stringify(pair), `${sid}:${hash}`),
          )
          return pair
        }
        case 'grace':
          return awaitGraceResult(sid, token, hash)
        case 'reused': {
          const s = result.session
          await sessions.unindex(s)
          logger.warn(
            { sessionId: s.id, userId: s.userId, familyId: s.familyId },
            'refresh token reused: family revoked',
          )
          const envelope = {
            subject: { type: 'session', id: s.id },
            ...(s.tenantId ? { tenantId: s.tenantId } : {}),
          }
          await emit(events, logger, [
            authEvent(
              'auth.refresh.reused',
              {
                userId: s.userId,
                familyId: s.familyId,
                sessionId: s.id,
                ...(s.deviceId ? { deviceId: s.deviceId } : {}),
                ...(cause.ip ? { ip: cause.ip } : {}),
                ...(cause.userAgent ? { userAgent: cause.userAgent.slice(0, 1000) } : {}),
              },
              cause,
              envelope,
            ),
            revokedEvent(s, 'refresh_reused', cause),
          ])
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
    },

    /** A live session, or undefined. */
    get: (sessionId: string) => sessions.get(sessionId),

    /** Revokes one session; true when it was live. `eventId` makes the published fact idempotent. */
    async revoke(
      sessionId: string,
      reason: SessionRevokedReason,
      cause: Cause,
      options: { eventId?: string; strict?: boolean } = {},
    ) {
      const session = await sessions.revoke(sessionId)
      if (session)
        await emit(events, logger, [revokedEvent(session, reason, cause, options.eventId)], options.strict)
      return session
    },

    /**
     * Revokes a user's sessions, except `except`, and only those created at or before `createdBefore`
     * (so a sign-in after a password change survives a late event). Returns the revoked sessions.
     */
    async revokeAllOf(
      userId: string,
      reason: SessionRevokedReason,
      cause: Cause,
      options: {
        except?: string
        createdBefore?: number
        eventIdFor?: (sessionId: string) => string
        strict?: boolean
      } = {},
    ): Promise<SessionRecord[]> {
      const revoked: SessionRecord[] = []
      for (const sid of await sessions.sessionIdsOf(userId)) {
        if (sid === options.except) continue
        const session = await sessions.get(sid)
        if (!session) {
          await sessions.revoke(sid)
          continue
        }
        if (session.userId !== userId) continue
        if (options.createdBefore !== undefined && session.createdAt > options.createdBefore) continue
        const gone = await sessions.revoke(sid)
        if (gone) revoked.push(gone)
      }
      await emit(
        events,
        logger,
        revoked.map((s) => revokedEvent(s, reason, cause, options.eventIdFor?.(s.id))),
        options.strict,
      )
      return revoked
    },

    /** Forgets a user's device and revokes its sessions; false when the user has no such device. */
    async removeDevice(userId: string, deviceId: string, cause: Cause): Promise<boolean> {
      if (!(await devices.get(userId, deviceId))) return false
      const revoked: SessionRecord[] = []
      for (const sid of await sessions.sessionIdsOf(userId)) {
        const session = await sessions.get(sid)
        if (session?.deviceId !== deviceId) continue
        const gone = await sessions.revoke(sid)
        if (gone) revoked.push(gone)
      }
      await devices.remove(userId, deviceId)
      await emit(
        events,
        logger,
        revoked.map((s) => revokedEvent(s, 'device_removed', cause)),
      )
      return true
    },

    /** One page of a user's sessions. */
    list: (userId: string, limit: number, cursor?: string) => sessions.listByUser(userId, limit, cursor),

    /** Throws 404 unless the session is live and belongs to `userId`. */
    async requireOwned(userId: string, sessionId: string): Promise<SessionRecord> {
      const session = await sessions.get(sessionId)
      if (!session || session.userId !== userId) throw notFound('session not found')
      return session
    },
  }
}
export type SessionService = ReturnType<typeof createSessionService>
