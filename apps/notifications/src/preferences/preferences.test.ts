import { describe, expect, it } from 'bun:test'
import { useFixture } from '@flotilla/service-kit/testing'
import { createTestApp } from '../testing.ts'

describe('preference routes', () => {
  const t = useFixture(() => createTestApp(), 'all')

  it('starts with no opt-outs, replaces the whole set on PUT, and reads it back', async () => {
    const empty = await t.request('GET', '/v1/users/u-pref/preferences')
    expect(await empty.json()).toEqual({ userId: 'u-pref', optOuts: [] })
    const optOuts = [
      { category: 'marketing', channel: 'email' },
      { category: 'marketing', channel: 'sms' },
      { category: 'marketing', channel: 'email' },
    ]
    const put = await t.request('PUT', '/v1/users/u-pref/preferences', { body: { optOuts } })
    expect(put.status).toBe(200)
    expect(((await put.json()) as { optOuts: unknown[] }).optOuts).toHaveLength(2)
    await t.request('PUT', '/v1/users/u-pref/preferences', {
      body: { optOuts: [{ category: 'account', channel: 'push' }] },
    })
    const read = await t.request('GET', '/v1/users/u-pref/preferences')
    expect(await read.json()).toEqual({
      userId: 'u-pref',
      optOuts: [{ category: 'account', channel: 'push' }],
    })
  })

  it('refuses an unknown channel or a malformed category with 422 VALIDATION_FAILED', async () => {
    for (const body of [
      { optOuts: [{ category: 'marketing', channel: 'pigeon' }] },
      { optOuts: [{ category: 'Not A Category!', channel: 'email' }] },
      { optOuts: 'all' },
    ]) {
      const response = await t.request('PUT', '/v1/users/u-bad/preferences', { body })
      expect(response.status).toBe(422)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED')
    }
  })

  it('requires a service token addressed to notifications', async () => {
    expect((await t.request('GET', '/v1/users/u-pref/preferences', { token: null })).status).toBe(401)
    const other = await t.serviceToken('audit')
    expect((await t.request('GET', '/v1/users/u-pref/preferences', { token: other })).status).toBe(401)
  })
})
