import { describe, expect, it } from 'bun:test'
import { eventCatalog } from './catalog.ts'
import { decodeEvent } from './codec.ts'
import { createCustomEvent, createEvent } from './create-event.ts'

describe('createEvent', () => {
  it('fills a time-ordered id, the catalogue version, source and occurredAt', () => {
    const a = createEvent('user.deleted', { userId: 'u_1' }, { source: 'monolith' })
    const b = createEvent('user.deleted', { userId: 'u_1' }, { source: 'monolith' })
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a.id < b.id).toBe(true)
    expect(a.version).toBe(eventCatalog['user.deleted'].version)
    expect(a.source).toBe('monolith')
    expect(Date.parse(a.occurredAt)).not.toBeNaN()
    expect(decodeEvent(a).ok).toBe(true)
  })

  it('keeps a given id and time, and leaves absent options out of the envelope', () => {
    const event = createEvent(
      'user.deleted',
      { userId: 'u_1' },
      { source: 'monolith', id: '0190a5b8-2f4e-7c3d-8a1b-123456789abc', occurredAt: new Date(0) },
    )
    expect(event.id).toBe('0190a5b8-2f4e-7c3d-8a1b-123456789abc')
    expect(event.occurredAt).toBe('1970-01-01T00:00:00.000Z')
    expect(Object.keys(event)).toEqual(['id', 'type', 'version', 'source', 'occurredAt', 'payload'])
  })

  it('checks payloads at compile time', () => {
    // These lines are checked by `bun run typecheck`: each must be a type error.
    const typeErrors = () => {
      // @ts-expect-error userId is required
      createEvent('user.deleted', {}, { source: 'monolith' })
      const revoked = { sessionId: 's', userId: 'u', reason: 'bored' } as const
      // @ts-expect-error reason must be one of the listed values
      createEvent('auth.session.revoked', revoked, { source: 'auth' })
      // @ts-expect-error unknown types need createCustomEvent
      createEvent('order.placed', { orderId: 'o' }, { source: 'monolith' })
    }
    expect(typeof typeErrors).toBe('function')
    const custom = createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' })
    expect(decodeEvent(custom)).toMatchObject({ ok: true, known: false })
  })

  it('gives every catalogue entry a version, a producer and a payload schema', () => {
    for (const [type, entry] of Object.entries(eventCatalog)) {
      expect(type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
      expect(entry.version).toBeGreaterThanOrEqual(1)
      expect(entry.producer.length).toBeGreaterThan(0)
      expect(entry.payload.type).toBe('object')
    }
  })
})
