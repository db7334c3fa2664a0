import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { AppError } from '../errors.ts'
import { createTestCore, type TestCore } from '../testing.ts'
import { hashRefreshToken } from './refresh-token.ts'

let core: TestCore
beforeEach(async () => {
  core = await createTestCore()
})
afterEach(async () => {
  await core.close()
})

const cause = { correlationId: 'corr-1' }
const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise
    return 'resolved'
  } catch (error) {
    return error instanceof AppError ? error.code : String(error)
  }
}

describe('session service', () => {
  it('creates a session with a new id, a device and the created/device-added events', async () => {
    const a = await core.sessions.create(
      { userId: 'u1', scopes: ['read'], device: { id: 'dev-1', name: 'Phone', ip: '203.0.113.7' } },
      cause,
    )
    const b = await core.sessions.create({ userId: 'u1', device: { id: 'dev-1' } }, cause)
    expect(a.sessionId).not.toBe(b.sessionId)
    expect(a.device).toEqual({ id: 'dev-1', isNew: true })
    expect(b.device).toEqual({ id: 'dev-1', isNew: false })
    expect((await core.published('auth.session.created')).map((e) => e.subject?.id)).toEqual([
      a.sessionId,
      b.sessionId,
    ])
    const added = await core.published('auth.device.added')
    expect(added).toHaveLength(1)
    expect(added[0]?.payload).toMatchObject({ userId: 'u1', deviceId: 'dev-1', name: 'Phone' })
    expect(added[0]?.correlationId).toBe('corr-1')
  })

  it('stores only the SHA-256 hash of refresh tokens', async () => {
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    const keys = await core.redis.keys(`${core.settings.redisPrefix}*`)
    for (const key of keys) {
      const dump = JSON.stringify(
        (await core.redis.type(key)) === 'hash'
          ? await core.redis.hgetall(key)
          : await core.redis.smembers(key).catch(() => []),
      )
      expect(dump).not.toContain(s.refreshToken)
      expect(dump).not.toContain(s.refreshToken.split('.')[1] ?? '')
    }
    const stored = await core.redis.hget(`${core.settings.redisPrefix}s:{${s.sessionId}}`, 'currentHash')
    expect(stored).toBe(hashRefreshToken(s.refreshToken))
  })

  it('rotates a refresh token and spends the old one: create → refresh → reuse detected → family revoked', async () => {
    const first = await core.sessions.create({ userId: 'u1', device: { id: 'd1' } }, cause)
    const second = await core.sessions.refresh(first.refreshToken, cause)
    expect(second.sessionId).toBe(first.sessionId)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    const third = await core.sessions.refresh(second.refreshToken, cause)
    // `first` is neither current nor the immediately previous token: reuse.
    expect(await codeOf(core.sessions.refresh(first.refreshToken, { ...cause, ip: '198.51.100.1' }))).toBe(
      'REFRESH_TOKEN_REUSED',
    )
    expect(await core.sessions.get(first.sessionId)).toBeUndefined()
    expect(await codeOf(core.sessions.refresh(third.refreshToken, cause))).toBe('INVALID_REFRESH_TOKEN')
    const reused = await core.published('auth.refresh.reused')
    expect(reused[0]?.payload).toMatchObject({
      userId: 'u1',
      sessionId: first.sessionId,
      deviceId: 'd1',
      ip: '198.51.100.1',
    })
    const revoked = await core.published('auth.session.revoked')
    expect(revoked.map((e) => e.payload)).toEqual([
      { sessionId: first.sessionId, userId: 'u1', reason: 'refresh_reused' },
    ])
  })

  it('treats the previous token outside the grace window as reuse', async () => {
    await core.close()
    core = await createTestCore({ refreshGraceSeconds: 0 })
    const first = await core.sessions.create({ userId: 'u1' }, cause)
    await core.sessions.refresh(first.refreshToken, cause)
    await Bun.sleep(5)
    expect(await codeOf(core.sessions.refresh(first.refreshToken, cause))).toBe('REFRESH_TOKEN_REUSED')
  })

  it('gives a concurrent loser inside the grace window the winner’s result, never a revocation', async () => {
    const first = await core.sessions.create({ userId: 'u1' }, cause)
    const winner = await core.sessions.refresh(first.refreshToken, cause)
    const loser = await core.sessions.refresh(first.refreshToken, cause)
    expect(loser).toEqual(winner)
    expect(await core.sessions.get(first.sessionId)).toBeDefined()
  })

  it('lets exactly one of 20 parallel refreshes rotate and keeps the user signed in', async () => {
    const first = await core.sessions.create({ userId: 'u1' }, cause)
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => core.sessions.refresh(first.refreshToken, cause)),
    )
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AppError).code] : []))
    // Every failure may only be the retryable 409; nobody was signed out.
    expect(failures.every((code) => code === 'REFRESH_IN_PROGRESS')).toBe(true)
    expect(new Set(ok.map((p) => p.refreshToken)).size).toBe(1)
    const generation = await core.redis.hget(
      `${core.settings.redisPrefix}s:{${first.sessionId}}`,
      'generation',
    )
    expect(generation).toBe('1')
    expect(await core.published('auth.refresh.reused')).toHaveLength(0)
    const next = await core.sessions.refresh(ok[0]?.refreshToken ?? '', cause)
    expect(next.sessionId).toBe(first.sessionId)
  })

  it('refuses malformed, unknown and guessed tokens without revoking the session', async () => {
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    const guessed = `${s.sessionId}.${'A'.repeat(43)}`
    for (const token of [
      '',
      'nope',
      `${s.sessionId}.short`,
      guessed,
      `${crypto.randomUUID()}.${'B'.repeat(43)}`,
    ]) {
      expect(await codeOf(core.sessions.refresh(token, cause))).toBe('INVALID_REFRESH_TOKEN')
    }
    expect(await core.sessions.get(s.sessionId)).toBeDefined()
    await core.sessions.refresh(s.refreshToken, cause)
  })

  it('ends a session at its idle deadline and never slides past the absolute one', async () => {
    await core.close()
    core = await createTestCore({ sessionIdleSeconds: 1, sessionAbsoluteSeconds: 1 })
    const s = await core.sessions.create({ userId: 'u1' }, cause)
    expect(Date.parse(s.refreshTokenExpiresAt)).toBeLessThanOrEqual(Date.parse(s.sessionExpiresAt))
    expect(await core.sessionStore.liveUserId(s.sessionId)).toBe('u1')
    await Bun.sleep(1100)
    expect(await core.sessionStore.liveUserId(s.sessionId)).toBeUndefined()
    expect(await codeOf(core.sessions.refresh(s.refreshToken, cause))).toMatch(
      /SESSION_EXPIRED|INVALID_REFRESH_TOKEN/,
    )
    expect(await core.sessions.get(s.sessionId)).toBeUndefined()
  })

  it('revokes all sessions of a user except one, and a device with its sessions', async () => {
    const a = await core.sessions.create({ userId: 'u1', device: { id: 'd1' } }, cause)
    const b = await core.sessions.create({ userId: 'u1', device: { id: 'd2' } }, cause)
    const c = await core.sessions.create({ userId: 'u1', device: { id: 'd2' } }, cause)
    const other = await core.sessions.create({ userId: 'u2' }, cause)
    expect(await core.sessions.removeDevice('u1', 'd2', cause)).toBe(true)
    expect(await core.sessions.get(b.sessionId)).toBeUndefined()
    expect(await core.sessions.get(c.sessionId)).toBeUndefined()
    expect(await core.devices.get('u1', 'd2')).toBeUndefined()
    const d = await core.sessions.create({ userId: 'u1' }, cause)
    const revoked = await core.sessions.revokeAllOf('u1', 'signed_out_everywhere', cause, {
      except: d.sessionId,
    })
    expect(revoked.map((s) => s.id)).toEqual([a.sessionId])
    expect(await core.sessionStore.liveUserId(a.sessionId)).toBeUndefined()
    expect(await core.sessionStore.liveUserId(d.sessionId)).toBe('u1')
    expect(await core.sessions.get(d.sessionId)).toBeDefined()
    expect(await core.sessions.get(other.sessionId)).toBeDefined()
  })

  it('pages through a user’s sessions newest first with a cursor', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await core.sessions.create({ userId: 'u1' }, cause)).sessionId)
      await Bun.sleep(2)
    }
    await core.sessions.revoke(ids[2] ?? '', 'logout', cause)
    const page1 = await core.sessions.list('u1', 2)
    const page2 = await core.sessions.list('u1', 2, page1.next)
    expect(page1.sessions.map((s) => s.id)).toEqual(ids.slice(3).reverse())
    expect(page2.sessions.map((s) => s.id)).toEqual(ids.slice(0, 2).reverse())
    expect(page2.next).toBeUndefined()
  })
})
