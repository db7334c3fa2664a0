import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { TokenPair } from '../sessions/model.ts'
import { createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
let service: string
let session: TokenPair
beforeEach(async () => {
  t = await createTestApp()
  service = await t.serviceToken()
  session = (await (
    await t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1' } })
  ).json()) as TokenPair
})
afterEach(async () => {
  await t.close()
})

const rotate = (body: unknown, token = service) => t.request('POST', '/v1/keys/rotate', { token, body })
const active = async (token: string) =>
  (
    (await (
      await t.request('POST', '/v1/tokens/introspect', { token: service, body: { token } })
    ).json()) as { active: boolean }
  ).active
const kids = async () =>
  ((await (await t.request('GET', '/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
    (k) => k.kid,
  )

describe('POST /v1/keys/rotate', () => {
  it('rotates with an overlap: the previous key keeps verifying its tokens', async () => {
    const res = await rotate({})
    expect(res.status).toBe(200)
    const { kid, retired } = (await res.json()) as { kid: string; retired: string[] }
    expect(retired).toEqual([])
    expect(await kids()).toContain(kid)
    expect(await kids()).toHaveLength(2)
    expect(await active(session.accessToken)).toBe(true)
  })

  it('retires every other key at once when a key leaked, and sessions go on with new tokens', async () => {
    const res = await rotate({ retirePrevious: true })
    const { kid, retired } = (await res.json()) as { kid: string; retired: string[] }
    expect(retired).toHaveLength(1)
    expect(await kids()).toEqual([kid])
    expect(await active(session.accessToken)).toBe(false)
    await Bun.sleep(2)
    const refreshed = await t.request('POST', '/v1/sessions/refresh', {
      body: { refreshToken: session.refreshToken },
    })
    expect(refreshed.status).toBe(200)
    expect(await active(((await refreshed.json()) as TokenPair).accessToken)).toBe(true)
  })

  it('is for services only', async () => {
    expect((await rotate({}, session.accessToken)).status).toBe(401)
    expect((await t.request('POST', '/v1/keys/rotate', { body: {} })).status).toBe(401)
  })
})
