import { beforeEach, describe, expect, it } from 'bun:test'
import { useFixture } from '@flotilla/service-kit/testing'
import { createTestApp } from '../testing.ts'
import type { TokenPair } from './model.ts'

const t = useFixture(() => createTestApp())
let service: string
beforeEach(async () => {
  service = await t.serviceToken()
})

type Created = TokenPair & { device: { id: string; isNew: boolean } | null }
const json = async <T>(res: Response) => (await res.json()) as T
const signIn = async (userId: string, deviceId?: string) => {
  const res = await t.request('POST', '/v1/sessions', {
    token: service,
    body: { userId, scopes: ['profile'], ...(deviceId ? { device: { id: deviceId, name: 'Laptop' } } : {}) },
  })
  expect(res.status).toBe(201)
  return json<Created>(res)
}
const refresh = (refreshToken: string) =>
  t.request('POST', '/v1/sessions/refresh', { body: { refreshToken } })
const introspect = async (token: string) =>
  (
    await json<{ active: boolean }>(
      await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token } }),
    )
  ).active

describe('the session flow over HTTP', () => {
  it('create → introspect → refresh → reuse detected → family revoked', async () => {
    const created = await signIn('u1', 'd1')
    expect(created.device).toEqual({ id: 'd1', isNew: true })
    expect(await introspect(created.accessToken)).toBe(true)

    const rotated = await refresh(created.refreshToken)
    expect(rotated.status).toBe(200)
    const second = await json<TokenPair>(rotated)
    expect(await introspect(second.accessToken)).toBe(true)
    const third = await json<TokenPair>(await refresh(second.refreshToken))

    const reused = await refresh(created.refreshToken)
    expect(reused.status).toBe(401)
    expect((await json<{ error: { code: string } }>(reused)).error.code).toBe('REFRESH_TOKEN_REUSED')
    for (const token of [created.accessToken, second.accessToken, third.accessToken]) {
      expect(await introspect(token)).toBe(false)
    }
    const afterRevoke = await refresh(third.refreshToken)
    expect(afterRevoke.status).toBe(401)
    expect((await t.core.published('auth.refresh.reused')).map((e) => e.payload)).toEqual([
      { userId: 'u1', familyId: expect.any(String), sessionId: created.sessionId, deviceId: 'd1' },
    ])
    expect((await t.core.published('auth.session.revoked'))[0]?.payload).toEqual({
      sessionId: created.sessionId,
      userId: 'u1',
      reason: 'refresh_reused',
    })
  })

  it('lets exactly one of 20 parallel refreshes of one token continue the family, without signing the user out', async () => {
    const created = await signIn('u1')
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(created.refreshToken)))
    const statuses = responses.map((r) => r.status)
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true)
    for (const r of responses.filter((r) => r.status === 409)) expect(r.headers.get('retry-after')).toBe('1')
    const pairs = await Promise.all(responses.filter((r) => r.status === 200).map((r) => json<TokenPair>(r)))
    expect(pairs.length).toBeGreaterThan(0)
    expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1)
    expect(await t.core.published('auth.refresh.reused')).toEqual([])
    const next = await refresh(pairs[0]?.refreshToken ?? '')
    expect(next.status).toBe(200)
    expect(await introspect((await json<TokenPair>(next)).accessToken)).toBe(true)
  })

  it('gives each sign-in a new session id (no fixation) and marks a device new only the first time', async () => {
    const a = await signIn('u1', 'd1')
    const b = await signIn('u1', 'd1')
    expect(a.sessionId).not.toBe(b.sessionId)
    expect(b.device).toEqual({ id: 'd1', isNew: false })
    expect(await t.core.published('auth.device.added')).toHaveLength(1)
    expect(await t.core.published('auth.session.created')).toHaveLength(2)
  })

  it('refuses to create a session without a service token, or with a user token', async () => {
    const user = await signIn('u1')
    for (const token of [undefined, user.accessToken, await t.serviceToken('audit')]) {
      const res = await t.request('POST', '/v1/sessions', {
        ...(token ? { token } : {}),
        body: { userId: 'u2' },
      })
      expect(res.status).toBe(401)
    }
  })

  it('answers 422 with field problems for invalid input', async () => {
    const bad = await t.request('POST', '/v1/sessions', {
      token: service,
      body: { userId: '', scopes: ['has space'] },
    })
    expect(bad.status).toBe(422)
    expect((await json<{ error: { code: string } }>(bad)).error.code).toBe('VALIDATION_FAILED')
    expect((await refresh('')).status).toBe(422)
    expect((await t.request('DELETE', '/v1/sessions/not-a-uuid', { token: service })).status).toBe(422)
  })

  it('answers 401 INVALID_REFRESH_TOKEN for a malformed refresh token, never 500', async () => {
    for (const token of [
      'x',
      'a.b',
      `${crypto.randomUUID()}.${'A'.repeat(43)}`,
      '../../etc/passwd',
      "' OR 1=1 --",
    ]) {
      const res = await refresh(token)
      expect(res.status).toBe(401)
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('INVALID_REFRESH_TOKEN')
    }
  })

  it('signs out everywhere else, keeping the current session', async () => {
    const a = await signIn('u1')
    const b = await signIn('u1')
    const res = await t.request('DELETE', `/v1/users/u1/sessions?except=${b.sessionId}`, {
      token: b.accessToken,
    })
    expect(await json<{ revoked: number }>(res)).toEqual({ revoked: 1 })
    expect(await introspect(a.accessToken)).toBe(false)
    expect(await introspect(b.accessToken)).toBe(true)
  })

  it('pages sessions with a cursor and marks the caller’s own', async () => {
    const created: Created[] = []
    for (let i = 0; i < 3; i++) {
      created.push(await signIn('u1'))
      await Bun.sleep(2)
    }
    const me = created[0]
    if (!me) throw new Error('no session')
    type Page = { items: { id: string; current: boolean }[]; nextCursor: string | null }
    const first = await json<Page>(
      await t.request('GET', '/v1/users/u1/sessions?limit=2', { token: me.accessToken }),
    )
    expect(first.items).toHaveLength(2)
    expect(first.nextCursor).not.toBeNull()
    const second = await json<Page>(
      await t.request(
        'GET',
        `/v1/users/u1/sessions?limit=2&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
        {
          token: me.accessToken,
        },
      ),
    )
    expect(second.items.map((s) => s.id)).toEqual([me.sessionId])
    expect(second.items[0]?.current).toBe(true)
    expect(second.nextCursor).toBeNull()
  })

  it('answers 400 INVALID_CURSOR to a cursor it did not issue', async () => {
    const me = await signIn('u1')
    const forged = Buffer.from(JSON.stringify({ v: 1, createdAt: 1, id: '+' })).toString('base64url')
    for (const cursor of ['garbage', forged]) {
      const res = await t.request('GET', `/v1/users/u1/sessions?cursor=${cursor}`, { token: me.accessToken })
      expect([cursor, res.status, (await json<{ error: { code: string } }>(res)).error.code]).toEqual([
        cursor,
        400,
        'INVALID_CURSOR',
      ])
    }
  })
})

describe('BOLA: a user reaches only their own sessions and devices', () => {
  it('answers 404 when user A lists, revokes or inspects user B’s sessions and devices', async () => {
    const a = await signIn('alice', 'a-phone')
    const b = await signIn('bob', 'b-phone')
    const attempts = [
      t.request('GET', '/v1/users/bob/sessions', { token: a.accessToken }),
      t.request('DELETE', '/v1/users/bob/sessions', { token: a.accessToken }),
      t.request('DELETE', `/v1/sessions/${b.sessionId}`, { token: a.accessToken }),
      t.request('GET', '/v1/users/bob/devices', { token: a.accessToken }),
      t.request('DELETE', '/v1/users/bob/devices/b-phone', { token: a.accessToken }),
      // Alice's own user id with Bob's device: still not hers.
      t.request('DELETE', '/v1/users/alice/devices/b-phone', { token: a.accessToken }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404)
      const body = JSON.stringify(await res.json())
      expect(body).not.toContain(b.sessionId)
      expect(body).not.toContain('bob')
    }
    expect(await introspect(b.accessToken)).toBe(true)
    expect(await t.core.devices.get('bob', 'b-phone')).toBeDefined()
  })

  it('lets a user see and manage their own sessions and devices, and a service act for anyone', async () => {
    const a = await signIn('alice', 'a-phone')
    const own = await t.request('GET', '/v1/users/alice/devices', { token: a.accessToken })
    expect(own.status).toBe(200)
    expect((await json<{ items: { id: string }[] }>(own)).items.map((d) => d.id)).toEqual(['a-phone'])
    const byService = await t.request('GET', '/v1/users/alice/sessions', { token: service })
    expect((await json<{ items: unknown[] }>(byService)).items).toHaveLength(1)
    const removed = await t.request('DELETE', '/v1/users/alice/devices/a-phone', { token: a.accessToken })
    expect(removed.status).toBe(200)
    expect(await introspect(a.accessToken)).toBe(false)
    expect((await t.core.published('auth.session.revoked'))[0]?.payload).toMatchObject({
      reason: 'device_removed',
    })
  })
})
