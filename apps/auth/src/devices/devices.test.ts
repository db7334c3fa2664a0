import { beforeEach, describe, expect, it } from 'bun:test'
import { useFixture } from '@flotilla/service-kit/testing'
import { createTestApp } from '../testing.ts'

const t = useFixture(() => createTestApp())
let service: string
beforeEach(async () => {
  service = await t.serviceToken()
})

type Page = {
  items: { id: string; name?: string; ip?: string; firstSeenAt: string; lastSeenAt: string }[]
  nextCursor: string | null
}
const signIn = (device: Record<string, string>) =>
  t.request('POST', '/v1/sessions', { token: service, body: { userId: 'u1', device } })

describe('devices', () => {
  it('records first and last sight, keeps an earlier name, and pages most recent first', async () => {
    await signIn({ id: 'd1', name: 'Phone', ip: '203.0.113.1' })
    await Bun.sleep(3)
    await signIn({ id: 'd2' })
    await Bun.sleep(3)
    await signIn({ id: 'd3' })
    await Bun.sleep(3)
    await signIn({ id: 'd1', ip: '203.0.113.2' }) // seen again, without a name
    const first = (await (
      await t.request('GET', '/v1/users/u1/devices?limit=2', { token: service })
    ).json()) as Page
    expect(first.items.map((d) => d.id)).toEqual(['d1', 'd3'])
    expect(first.items[0]).toMatchObject({ name: 'Phone', ip: '203.0.113.2' })
    expect(Date.parse(first.items[0]?.lastSeenAt ?? '')).toBeGreaterThan(
      Date.parse(first.items[0]?.firstSeenAt ?? ''),
    )
    const next = (await (
      await t.request('GET', `/v1/users/u1/devices?limit=2&cursor=${first.nextCursor}`, { token: service })
    ).json()) as Page
    expect(next.items.map((d) => d.id)).toEqual(['d2'])
    expect(next.nextCursor).toBeNull()
  })

  it('answers 400 INVALID_CURSOR to a cursor it did not issue, instead of starting over', async () => {
    await signIn({ id: 'd1' })
    const res = await t.request('GET', '/v1/users/u1/devices?cursor=garbage', { token: service })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_CURSOR')
  })

  it('answers 404 for a device the user does not have', async () => {
    await signIn({ id: 'd1' })
    const res = await t.request('DELETE', '/v1/users/u1/devices/nope', { token: service })
    expect(res.status).toBe(404)
  })

  it('announces a device once per user, even when two sign-ins race on it', async () => {
    const results = await Promise.all([
      signIn({ id: 'shared' }),
      signIn({ id: 'shared' }),
      signIn({ id: 'shared' }),
    ])
    const flags = await Promise.all(
      results.map(async (r) => ((await r.json()) as { device: { isNew: boolean } }).device.isNew),
    )
    expect(flags.filter(Boolean)).toHaveLength(1)
    expect(await t.core.published('auth.device.added')).toHaveLength(1)
  })
})
