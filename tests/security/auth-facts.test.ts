/**
 * A stolen refresh token reused while the events stream refuses writes: the family is revoked and the request
 * answers 401 as always, and the alert (`auth.refresh.reused`, which sends the critical security email) must not
 * vanish with the failed publish — it reaches the stream once the relay runs, exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'bun:test'
import { createTestApp, DEFAULT_SETTLE_MS, type TestApp } from '@flotilla/auth/testing'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

const refresh = (refreshToken: string) =>
  t.request('POST', '/v1/sessions/refresh', { body: { refreshToken } })

it('delivers the refresh-reuse alert once, after the events stream refused the write at detection time', async () => {
  const created = await t.request('POST', '/v1/sessions', {
    token: await t.serviceToken(),
    body: { userId: 'victim', device: { id: 'laptop' } },
  })
  expect(created.status).toBe(201)
  const stolen = ((await created.json()) as { refreshToken: string }).refreshToken
  // The victim refreshes twice: the stolen token is now spent, outside the grace window of the previous one.
  const first = await refresh(stolen)
  const second = await refresh(((await first.json()) as { refreshToken: string }).refreshToken)
  expect(second.status).toBe(200)

  // The events stream key now holds a string: every XADD fails with WRONGTYPE.
  await t.core.redis.set(t.core.stream, 'broken')
  const attack = await refresh(stolen)
  expect(attack.status).toBe(401)
  expect(((await attack.json()) as { error: { code: string } }).error.code).toBe('REFRESH_TOKEN_REUSED')
  await t.core.redis.del(t.core.stream)
  expect(await t.core.published('auth.refresh.reused')).toEqual([])

  await t.core.outbox.relayOnce(Date.now() + DEFAULT_SETTLE_MS)
  await t.core.outbox.relayOnce(Date.now() + DEFAULT_SETTLE_MS)
  const alerts = await t.core.published('auth.refresh.reused')
  expect(alerts).toHaveLength(1)
  expect(alerts[0]?.payload).toMatchObject({ userId: 'victim', deviceId: 'laptop' })
  expect(
    (await t.core.published('auth.session.revoked')).map((e) => (e.payload as { reason: string }).reason),
  ).toEqual(['refresh_reused'])
})
