import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { errorDocProblems } from '@flotilla/service-kit'
import { ERRORS } from '../errors.ts'
import { createTestApp, type TestApp } from '../testing.ts'

type Page = {
  items: { id: string; status: string; userId: string; template: string }[]
  nextCursor: string | null
}

describe('notification status routes', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
    for (const userId of ['u-a', 'u-a', 'u-a', 'u-b'])
      await t.handle(
        createEvent('user.registered', { userId, email: `${userId}@example.com` }, { source: 'monolith' }),
      )
    await t.handle(createEvent('auth.device.added', { userId: 'u-ghost', deviceId: 'd' }, { source: 'auth' }))
  })
  afterAll(() => t.close())

  it('lists a user’s deliveries newest first, page by page with the cursor', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = (await (
        await t.request('GET', `/v1/notifications?userId=u-a&limit=2${query}`)
      ).json()) as Page
      expect(page.items.every((i) => i.userId === 'u-a')).toBe(true)
      seen.push(...page.items.map((i) => i.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toHaveLength(3)
    expect(new Set(seen).size).toBe(3)
  })

  it('answers 400 INVALID_CURSOR to a cursor it did not issue, on the log and on the outbox', async () => {
    const old = Buffer.from('1700000000000|d1').toString('base64url') // the earlier unversioned format
    for (const path of ['/v1/notifications', '/v1/outbox'])
      for (const cursor of ['garbage', old]) {
        const res = await t.request('GET', `${path}?cursor=${cursor}`)
        const body = (await res.json()) as { error?: { code: string } }
        expect([path, cursor, res.status, body.error?.code]).toEqual([path, cursor, 400, 'INVALID_CURSOR'])
      }
  })

  it('filters by status', async () => {
    const failed = (await (await t.request('GET', '/v1/notifications?status=failed')).json()) as Page
    expect(failed.items.map((i) => [i.userId, i.template])).toEqual([['u-ghost', 'new-sign-in']])
    expect((await t.request('GET', '/v1/notifications?status=lost')).status).toBe(422)
  })

  it('shows one delivery with its attempts, and 404 for an unknown id', async () => {
    const page = (await (await t.request('GET', '/v1/notifications?userId=u-b')).json()) as Page
    const response = await t.request('GET', `/v1/notifications/${page.items[0]?.id}`)
    expect(response.status).toBe(200)
    const detail = (await response.json()) as { status: string; attemptLog: { outcome: string }[] }
    expect(detail.status).toBe('sent')
    expect(detail.attemptLog.map((a) => a.outcome)).toEqual(['sent'])
    const missing = await t.request('GET', '/v1/notifications/does-not-exist')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })

  it('shows what the local outbox stored, and requires a token for it', async () => {
    const page = (await (await t.request('GET', '/v1/outbox?channel=email')).json()) as {
      items: { recipient: string; subject: string }[]
    }
    expect(page.items.map((i) => i.recipient).sort()).toEqual([
      'u-a@example.com',
      'u-a@example.com',
      'u-a@example.com',
      'u-b@example.com',
    ])
    expect((await t.request('GET', '/v1/outbox', { token: null })).status).toBe(401)
  })

  it('counts attempts by channel, provider and outcome on /metrics', async () => {
    const text = await (await t.request('GET', '/metrics', { token: null })).text()
    expect(text).toMatch(
      /notification_attempts_total\{channel="email",provider="outbox",outcome="sent"[^}]*\} 4\n/,
    )
    // The address-less new-sign-in never reached a provider: no attempt.
    expect(text).not.toContain('outcome="failed"')
  })

  it('lists only error codes its ERRORS map declares, on every route of its own', async () => {
    const doc = (await (await t.request('GET', '/swagger/json', { token: null })).json()) as Parameters<
      typeof errorDocProblems
    >[0]
    expect(errorDocProblems(doc, ERRORS)).toEqual({ undeclared: [], unlisted: [] })
  })

  it('serves the dead-letter inspector and the OpenAPI document', async () => {
    expect((await t.request('GET', '/v1/dead-letters')).status).toBe(200)
    const spec = (await (await t.request('GET', '/swagger/json', { token: null })).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/templates',
        '/v1/templates/{name}/preview',
        '/v1/users/{userId}/preferences',
        '/v1/notifications',
        '/v1/notifications/{id}',
        '/v1/outbox',
        '/v1/webhooks/resend',
        '/v1/dead-letters',
      ]),
    )
  })
})
