import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { revocationNames } from '@flotilla/service-kit'
import { handleUserDeleted } from '../handlers/user-deleted.ts'
import { handleUserPasswordChanged } from '../handlers/user-password-changed.ts'
import { createTestCore, type TestCore } from '../testing.ts'

let core: TestCore
beforeEach(async () => {
  core = await createTestCore()
})
afterEach(async () => {
  await core.close()
})

const signIn = (userId: string) => core.sessions.create({ userId }, {})
const revoked = (kind: 'sessions' | 'users' | 'keys') =>
  core.redis.zrange(revocationNames(core.stream).sets[kind], 0, -1, 'WITHSCORES')
const ids = async (kind: 'sessions' | 'users' | 'keys') =>
  (await revoked(kind)).filter((_, i) => i % 2 === 0).sort()

describe('auth announces every revocation to the other services', () => {
  it('records a signed-out session until its last access token would have expired', async () => {
    const pair = await signIn('u1')
    const started = Date.now()
    await core.sessions.revoke(pair.sessionId, 'logout', {})
    const [sid, until] = await revoked('sessions')
    expect(sid).toBe(pair.sessionId)
    const lifetime = (core.settings.accessTokenTtlSeconds + 2 * core.settings.clockToleranceSeconds) * 1000
    expect(Number(until)).toBeGreaterThanOrEqual(started + lifetime)
  })

  it('records every session a user signs out of everywhere, and the session of a reused refresh token', async () => {
    const [a, b] = [await signIn('u2'), await signIn('u2')]
    await core.sessions.revokeAllOf('u2', 'signed_out_everywhere', {})
    expect(await ids('sessions')).toEqual([a.sessionId, b.sessionId].sort())
    const c = await signIn('u3')
    const next = await core.sessions.refresh(c.refreshToken, {})
    await core.sessions.refresh(next.refreshToken, {})
    await core.sessions.refresh(c.refreshToken, {}).catch(() => undefined)
    expect(await ids('sessions')).toContain(c.sessionId)
  })

  it('records "revoked before" the password change for the user, and each of their sessions', async () => {
    const pair = await signIn('u4')
    const occurredAt = new Date()
    await handleUserPasswordChanged(
      core.revocation,
      createEvent(
        'user.password.changed',
        { userId: 'u4', reason: 'change' },
        { source: 'monolith', occurredAt },
      ),
    )
    expect(await revoked('users')).toEqual(['u4', String(occurredAt.getTime())])
    expect(await ids('sessions')).toEqual([pair.sessionId])
  })

  it('records "revoked before" the deletion for a deleted user', async () => {
    const occurredAt = new Date()
    await handleUserDeleted(
      core.revocation,
      createEvent('user.deleted', { userId: 'u5' }, { source: 'monolith', occurredAt }),
    )
    expect(await revoked('users')).toEqual(['u5', String(occurredAt.getTime())])
  })

  it('records the keys an emergency rotation retires before it deletes them', async () => {
    const old = (await core.keyRing.signingKey()).kid
    const { kid, retired } = await core.keyRing.rotateAndRetire()
    expect(retired).toEqual([old])
    expect(await ids('keys')).toEqual([old])
    expect(await ids('keys')).not.toContain(kid)
  })
})
