import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent, type EventOf } from '@flotilla/contracts'
import { handlerOfMap } from '@flotilla/service-kit'
import { createConsumer, createPublisher } from '@flotilla/streams'
import { createTestCore, REDIS_URL, type TestCore } from '../testing.ts'
import { authHandlers } from './index.ts'
import { handleUserDeleted } from './user-deleted.ts'
import { handleUserPasswordChanged } from './user-password-changed.ts'

let core: TestCore
beforeEach(async () => {
  core = await createTestCore()
})
afterEach(async () => {
  await core.close()
})

const signIn = (userId: string, deviceId?: string) =>
  core.sessions.create({ userId, ...(deviceId ? { device: { id: deviceId } } : {}) }, {})

const passwordChanged = (userId: string, occurredAt = new Date()): EventOf<'user.password.changed'> =>
  createEvent(
    'user.password.changed',
    { userId, reason: 'change' },
    { source: 'monolith', occurredAt, correlationId: 'c-9' },
  )

describe('auth consumer group', () => {
  it('makes every session of the user inactive within one consumer batch after a password change', async () => {
    const mine = await Promise.all([signIn('u1'), signIn('u1'), signIn('u1')])
    const theirs = await signIn('u2')
    const event = passwordChanged('u1')
    await createPublisher({ redis: core.redis, stream: core.stream }).publish(event)
    const consumer = createConsumer({
      redisUrl: REDIS_URL,
      stream: core.stream,
      group: 'auth',
      handler: handlerOfMap(authHandlers(core.revocation)),
      blockMs: 100,
    })
    // The stream also holds the auth.session.created facts: all of them fit in the consumer's first batch.
    const entries = await core.redis.xlen(core.stream)
    await consumer.start()
    try {
      for (let i = 0; i < 250 && consumer.status().processed < entries; i++) await Bun.sleep(20)
      expect(consumer.status().processed).toBeGreaterThanOrEqual(entries)
      expect(consumer.status().failed).toBe(0)
      for (const s of mine) expect((await core.checker.introspect(s.accessToken)).active).toBe(false)
      expect((await core.checker.introspect(theirs.accessToken)).active).toBe(true)
    } finally {
      await consumer.close()
    }
    const revoked = await core.published('auth.session.revoked')
    expect(
      revoked.map((e) => e.payload).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(
      mine
        .map((s) => ({ sessionId: s.sessionId, userId: 'u1', reason: 'password_changed' }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    )
    for (const e of revoked) {
      expect(e.causationId).toBe(event.id)
      expect(e.correlationId).toBe('c-9')
    }
  })

  it('is idempotent on the event id: a redelivery revokes nothing new and publishes nothing twice', async () => {
    await signIn('u1')
    const event = passwordChanged('u1')
    expect(await handleUserPasswordChanged(core.revocation, event)).toBe(1)
    await signIn('u1') // signed in again after the change
    expect(await handleUserPasswordChanged(core.revocation, event)).toBe(0)
    expect(await core.published('auth.session.revoked')).toHaveLength(1)
  })

  it('republishes the same event ids when a delivery crashed before it finished', async () => {
    await signIn('u1')
    await signIn('u1')
    const event = passwordChanged('u1')
    await handleUserPasswordChanged(core.revocation, event)
    // Simulate a crash after publishing but before the "done" mark.
    await core.redis.del(`${core.settings.redisPrefix}evt:{${event.id}}:done`)
    await handleUserPasswordChanged(core.revocation, event)
    const ids = (await core.published('auth.session.revoked')).map((e) => e.id)
    expect(ids).toHaveLength(4)
    expect(new Set(ids).size).toBe(2)
  })

  it('keeps a session created after the password change (a late event does not sign the user out again)', async () => {
    const old = await signIn('u1')
    // The change must fall strictly after the old session's creation millisecond.
    await Bun.sleep(3)
    const event = passwordChanged('u1', new Date(Date.now() - 1))
    await Bun.sleep(5)
    const fresh = await signIn('u1')
    await handleUserPasswordChanged(core.revocation, event)
    expect(await core.sessions.get(old.sessionId)).toBeUndefined()
    expect(await core.sessions.get(fresh.sessionId)).toBeDefined()
  })

  it('revokes every session on a v1 event too, upcast through the handler map', async () => {
    const sessions = [await signIn('u1'), await signIn('u1')]
    const handler = handlerOfMap(authHandlers(core.revocation))
    if (!('handle' in handler)) throw new Error('a handler map makes a per-event handler')
    const event = createEvent(
      'user.password.changed',
      { userId: 'u1', via: 'settings' },
      { source: 'monolith', version: 1 },
    )
    await handler.handle({ streamId: '1-0', deliveryCount: 1, group: 'auth', known: true, event })
    for (const s of sessions) expect(await core.sessions.get(s.sessionId)).toBeUndefined()
    expect((await core.published('auth.session.revoked')).map((e) => e.causationId)).toEqual([
      event.id,
      event.id,
    ])
  })

  it('keeps the session a password was changed from (v2 reason change), and only that one', async () => {
    const here = await signIn('u1')
    const elsewhere = await signIn('u1')
    const event = createEvent(
      'user.password.changed',
      { userId: 'u1', reason: 'change', keepSessionId: here.sessionId },
      { source: 'monolith' },
    )
    expect(await handleUserPasswordChanged(core.revocation, event)).toBe(1)
    expect(await core.sessions.get(here.sessionId)).toBeDefined()
    expect(await core.sessions.get(elsewhere.sessionId)).toBeUndefined()
    // The kept session refreshes into a token issued after the change, which is live.
    const refreshed = await core.sessions.refresh(here.refreshToken, {})
    expect((await core.checker.introspect(refreshed.accessToken)).active).toBe(true)
  })

  it('ends every session after a reset or an admin change, whatever keepSessionId says', async () => {
    for (const reason of ['reset', 'admin'] as const) {
      const here = await signIn('u1')
      const event = createEvent(
        'user.password.changed',
        { userId: 'u1', reason, keepSessionId: here.sessionId },
        { source: 'monolith' },
      )
      await handleUserPasswordChanged(core.revocation, event)
      expect(await core.sessions.get(here.sessionId)).toBeUndefined()
    }
  })

  it('revokes every session and forgets the devices of a deleted user', async () => {
    const s = await signIn('u1', 'd1')
    const event = createEvent('user.deleted', { userId: 'u1' }, { source: 'monolith' })
    await handleUserDeleted(core.revocation, event)
    expect(await core.sessions.get(s.sessionId)).toBeUndefined()
    expect(await core.devices.list('u1')).toEqual([])
    expect((await core.published('auth.session.revoked'))[0]?.payload).toMatchObject({
      reason: 'user_deleted',
    })
  })

  it('acknowledges other event types without touching sessions', async () => {
    const s = await signIn('u1')
    const handler = handlerOfMap(authHandlers(core.revocation))
    if (!('handle' in handler)) throw new Error('a handler map makes a per-event handler')
    const event = createEvent('user.registered', { userId: 'u1' }, { source: 'monolith' })
    await handler.handle({ streamId: '1-0', deliveryCount: 1, group: 'auth', known: true, event })
    expect(await core.sessions.get(s.sessionId)).toBeDefined()
    expect(Object.keys(authHandlers(core.revocation))).toEqual(['user.password.changed', 'user.deleted'])
  })
})
