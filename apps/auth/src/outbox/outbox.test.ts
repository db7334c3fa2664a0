import { describe, expect, it } from 'bun:test'
import { type AnyEvent, createEvent } from '@flotilla/contracts'
import { useFixture } from '@flotilla/service-kit/testing'
import { AppError } from '../errors.ts'
import { handleUserDeleted } from '../handlers/user-deleted.ts'
import { silentLogger } from '../logger.ts'
import { hashRefreshToken } from '../sessions/refresh-token.ts'
import { createTestCore } from '../testing.ts'
import { createFactOutbox, DEFAULT_SETTLE_MS, outboxKey, pendingIndexKey } from './outbox.ts'

const core = useFixture(() => createTestCore())

const cause = { correlationId: 'corr-outbox' }
/** A relay pass as the job would run it once every mark has settled. */
const relayLater = () => core.outbox.relayOnce(Date.now() + DEFAULT_SETTLE_MS)

/** The events stream refuses every XADD (WRONGTYPE) until `restore()`: the publish after a change fails. */
const breakStream = async () => {
  await core.redis.set(core.stream, 'not a stream')
  return { restore: () => core.redis.del(core.stream) }
}

const idsOf = (events: readonly AnyEvent[]) => events.map((e) => e.id).sort()
const outboxOf = async (sessionId: string) =>
  Object.keys(await core.redis.hgetall(outboxKey(core.settings.redisPrefix, sessionId)))
const marked = async (sessionId: string) =>
  (await core.redis.zscore(pendingIndexKey(core.settings.redisPrefix), sessionId)) !== null

const errorCode = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error) => (error instanceof AppError ? error.code : String(error)),
  )

describe('facts survive a failed publish', () => {
  it('publishes auth.session.created and auth.device.added from the outbox once the stream takes writes again', async () => {
    const stream = await breakStream()
    const s = await core.sessions.create({ userId: 'u1', device: { id: 'dev-1', name: 'Phone' } }, cause)
    expect(await outboxOf(s.sessionId)).toHaveLength(2)
    expect(await marked(s.sessionId)).toBe(true)
    await stream.restore()
    expect(await core.published()).toEqual([])

    expect(await relayLater()).toEqual({ sessions: 1, published: 2, failed: 0 })
    const published = await core.published()
    expect(published.map((e) => e.type).sort()).toEqual(['auth.device.added', 'auth.session.created'])
    expect(published.every((e) => e.correlationId === 'corr-outbox')).toBe(true)
    expect(await outboxOf(s.sessionId)).toEqual([])
    expect(await marked(s.sessionId)).toBe(false)

    // Once: a second pass finds nothing.
    expect(await relayLater()).toEqual({ sessions: 0, published: 0, failed: 0 })
    expect(idsOf(await core.published())).toEqual(idsOf(published))
  })

  it('raises auth.refresh.reused and auth.session.revoked after a reuse while the stream was failing', async () => {
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    // Two rotations: the first token is then plainly spent (not the previous one, inside the grace window).
    const second = await core.sessions.refresh(s.refreshToken, cause)
    await core.sessions.refresh(second.refreshToken, cause)
    await relayLater()
    const stream = await breakStream()
    expect(await errorCode(core.sessions.refresh(s.refreshToken, { ...cause, ip: '198.51.100.9' }))).toBe(
      'REFRESH_TOKEN_REUSED',
    )
    expect(await core.sessions.get(s.sessionId)).toBeUndefined()
    await stream.restore()

    await relayLater()
    const reused = await core.published('auth.refresh.reused')
    expect(reused).toHaveLength(1)
    expect(reused[0]?.payload).toMatchObject({ userId: 'u1', sessionId: s.sessionId, ip: '198.51.100.9' })
    const revoked = await core.published('auth.session.revoked')
    expect(revoked.map((e) => e.payload)).toEqual([
      { sessionId: s.sessionId, userId: 'u1', reason: 'refresh_reused' },
    ])
  })

  it('announces every revocation (one session, everywhere, by device) after the stream comes back', async () => {
    const one = await core.sessions.create({ userId: 'u1' }, cause)
    const two = await core.sessions.create({ userId: 'u1' }, cause)
    const phone = await core.sessions.create({ userId: 'u2', device: { id: 'phone' } }, cause)
    await relayLater()
    const stream = await breakStream()
    expect(await core.sessions.revoke(one.sessionId, 'logout', cause)).toBeDefined()
    expect(await core.sessions.revokeAllOf('u1', 'signed_out_everywhere', cause)).toHaveLength(1)
    expect(await core.sessions.removeDevice('u2', 'phone', cause)).toBe(true)
    await stream.restore()

    expect((await relayLater()).published).toBe(3)
    const revoked = (await core.published('auth.session.revoked')).map((e) => e.payload)
    expect(revoked).toEqual(
      expect.arrayContaining([
        { sessionId: one.sessionId, userId: 'u1', reason: 'logout' },
        { sessionId: two.sessionId, userId: 'u1', reason: 'signed_out_everywhere' },
        { sessionId: phone.sessionId, userId: 'u2', reason: 'device_removed' },
      ]),
    )
    expect(revoked).toHaveLength(3)
  })

  it('keeps the facts and the mark while the relay cannot publish, and publishes them once when it can', async () => {
    const stream = await breakStream()
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    await stream.restore()
    const sent: AnyEvent[] = []
    let reachable = false
    // The relay's producer pointed at a Redis that does not answer, then back.
    const relay = createFactOutbox({
      redis: core.redis,
      prefix: core.settings.redisPrefix,
      logger: silentLogger,
      sink: {
        async publishBatch(events) {
          if (!reachable) throw new Error('connect ECONNREFUSED 127.0.0.1:1')
          sent.push(...events)
        },
      },
    })
    const later = Date.now() + DEFAULT_SETTLE_MS
    expect(await relay.relayOnce(later)).toEqual({ sessions: 1, published: 0, failed: 1 })
    expect(await outboxOf(s.sessionId)).toHaveLength(1)
    expect(await marked(s.sessionId)).toBe(true)
    reachable = true
    expect(await relay.relayOnce(later)).toEqual({ sessions: 1, published: 1, failed: 0 })
    expect(await relay.relayOnce(later)).toEqual({ sessions: 0, published: 0, failed: 0 })
    expect(sent.map((e) => e.type)).toEqual(['auth.session.created'])
  })

  it('leaves a session marked less than settleMs ago to the request that is still writing it', async () => {
    const stream = await breakStream()
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    await stream.restore()
    expect(await core.outbox.relayOnce()).toEqual({ sessions: 0, published: 0, failed: 0 })
    expect(await outboxOf(s.sessionId)).toHaveLength(1)
  })

  it('leaves nothing in the outbox when the publish succeeds, and writes no fact for a change that did not happen', async () => {
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    expect(await outboxOf(s.sessionId)).toEqual([])
    expect(await errorCode(core.sessions.refresh(`${s.sessionId}.${'A'.repeat(43)}`, cause))).toBe(
      'INVALID_REFRESH_TOKEN',
    )
    expect(await core.sessions.revoke(crypto.randomUUID(), 'logout', cause)).toBeUndefined()
    expect(await outboxOf(s.sessionId)).toEqual([])
    expect(await relayLater()).toEqual({ sessions: 1, published: 0, failed: 0 })
    expect(await core.published('auth.session.created')).toHaveLength(1)
    expect(await core.published('auth.session.revoked')).toEqual([])
  })

  it('never revokes a family without its alert: a reuse found without facts changes nothing', async () => {
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    const second = await core.sessions.refresh(s.refreshToken, cause)
    await core.sessions.refresh(second.refreshToken, cause)
    const spent = hashRefreshToken(s.refreshToken)
    const found = await core.sessionStore.rotate(s.sessionId, spent, 'next', 60_000, 0)
    expect(found.outcome).toBe('reuse_detected')
    expect(await core.sessions.get(s.sessionId)).toBeDefined()
    expect(await outboxOf(s.sessionId)).toEqual([])
  })

  it('keeps the facts of a user.deleted revocation whose every delivery failed to publish, for the relay', async () => {
    const a = await core.sessions.create({ userId: 'gone' }, cause)
    const b = await core.sessions.create({ userId: 'gone' }, cause)
    await relayLater()
    const stream = await breakStream()
    const event = createEvent('user.deleted', { userId: 'gone' }, { source: 'monolith' })
    // Strict: the delivery fails (and would be retried, then dead-lettered), but the sessions are revoked.
    expect(await errorCode(handleUserDeleted(core.revocation, event))).toContain('WRONGTYPE')
    expect(await core.sessions.get(a.sessionId)).toBeUndefined()
    await stream.restore()

    expect((await relayLater()).published).toBe(2)
    const revoked = await core.published('auth.session.revoked')
    expect(revoked.map((e) => (e.payload as { sessionId: string }).sessionId).sort()).toEqual(
      [a.sessionId, b.sessionId].sort(),
    )
    expect(revoked.every((e) => e.causationId === event.id)).toBe(true)
  })
})
