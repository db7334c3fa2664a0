import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createCustomEvent } from '@flotilla/contracts'
import type { AuditRecord } from '../records/model.ts'
import { createTestApp, type TestApp } from '../testing.ts'
import type { EventPage } from './model.ts'

let t: TestApp
let token: string
const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 12, minute)).toISOString()
const event = (
  type: string,
  minute: number,
  extra: { actor?: string; subject?: string; correlationId?: string } = {},
) =>
  createCustomEvent(
    type,
    { minute },
    {
      source: 'monolith',
      tenantId: 'ev',
      occurredAt: at(minute),
      ...(extra.actor ? { actor: { type: extra.actor === 'root' ? 'admin' : 'user', id: extra.actor } } : {}),
      ...(extra.subject ? { subject: { type: 'doc', id: extra.subject } } : {}),
      ...(extra.correlationId ? { correlationId: extra.correlationId } : {}),
    },
  )

beforeAll(async () => {
  t = await createTestApp()
  token = await t.serviceToken()
  await t.ingest([
    event('user.registered', 1, { actor: 'alice', correlationId: 'flow-1' }),
    event('user.login.succeeded', 2, { actor: 'alice', correlationId: 'flow-1' }),
    event('user.deleted', 3, { actor: 'root', subject: 'd-1' }),
    event('order.placed', 4, { actor: 'bob', subject: 'd-1' }),
    event('order.paid', 5, { actor: 'bob' }),
  ])
})
afterAll(() => t.close())

const list = async (query: string) => {
  const res = await t.get(`/v1/audit/events?tenantId=ev&${query}`, token)
  expect(res.status).toBe(200)
  return (await res.json()) as EventPage
}
const types = async (query: string) => (await list(query)).items.map((r) => r.type)

describe('GET /v1/audit/events', () => {
  it('returns records newest first with their chain position and hashes', async () => {
    const page = await list('')
    expect(page.items.map((r) => r.type)).toEqual([
      'order.paid',
      'order.placed',
      'user.deleted',
      'user.login.succeeded',
      'user.registered',
    ])
    const first = page.items[0] as AuditRecord
    expect(first).toMatchObject({
      chain: 'ev',
      seq: 5,
      action: 'paid',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
    expect(page.nextCursor).toBeNull()
  })

  it('filters by exact type and by a type prefix', async () => {
    expect(await types('type=user.deleted')).toEqual(['user.deleted'])
    expect(await types('type=user.*')).toEqual(['user.deleted', 'user.login.succeeded', 'user.registered'])
    expect(await types('type=user.login.*')).toEqual(['user.login.succeeded'])
  })

  it('filters by actor, actor type, subject and correlation id', async () => {
    expect(await types('actorId=bob')).toEqual(['order.paid', 'order.placed'])
    expect(await types('actorType=admin')).toEqual(['user.deleted'])
    expect(await types('subjectId=d-1')).toEqual(['order.placed', 'user.deleted'])
    expect(await types('correlationId=flow-1')).toEqual(['user.login.succeeded', 'user.registered'])
  })

  it('filters by time: from inclusive, to exclusive', async () => {
    expect(await types(`from=${at(2)}&to=${at(4)}`)).toEqual(['user.deleted', 'user.login.succeeded'])
  })

  it('pages with an opaque cursor until the last page', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: EventPage = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...page.items.map((r) => r.eventId))
      cursor = page.nextCursor
      pages += 1
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual((await list('')).items.map((r) => r.eventId))
  })

  it('answers 400 with a code for a bad cursor, time, range, type or limit', async () => {
    const cases: [string, number, string | undefined][] = [
      ['cursor=not-ours', 400, 'INVALID_CURSOR'],
      [`cursor=${Buffer.from('{"v":1,"occurredMs":"1"}').toString('base64url')}`, 400, 'INVALID_CURSOR'],
      ['from=yesterday', 400, 'INVALID_TIME'],
      [`from=${at(4)}&to=${at(2)}`, 400, 'INVALID_RANGE'],
      ['type=User', 422, undefined],
      ['limit=501', 422, undefined],
      ['limit=0', 422, undefined],
    ]
    for (const [query, status, code] of cases) {
      const res = await t.get(`/v1/audit/events?${query}`, token)
      expect([query, res.status]).toEqual([query, status])
      const body = (await res.json()) as { error: { code: string } }
      expect(body.error.code).toBeString()
      if (code) expect(body.error.code).toBe(code)
    }
  })
})
