import { describe, expect, it } from 'bun:test'
import { eventCatalog, latestVersionOf, versionsOfType } from './catalog.ts'
import { decodeEvent } from './codec.ts'
import { createCustomEvent, createEvent } from './create-event.ts'
import type { AnyEvent } from './types.ts'

describe('createEvent', () => {
  it('fills a time-ordered id, the catalogue version, source and occurredAt', () => {
    const a = createEvent('user.deleted', { userId: 'u_1' }, { source: 'monolith' })
    const b = createEvent('user.deleted', { userId: 'u_1' }, { source: 'monolith' })
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a.id < b.id).toBe(true)
    expect(a.version as number).toBe(latestVersionOf('user.deleted'))
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

  it('gives every catalogue entry versions 1..N, each with a payload schema and (past 1) an upcaster, and a producer', () => {
    for (const [type, entry] of Object.entries(eventCatalog)) {
      expect(type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
      const versions = versionsOfType(type as keyof typeof eventCatalog)
      expect(versions).toEqual(versions.map((_, i) => i + 1))
      expect(entry.producer.length).toBeGreaterThan(0)
      for (const version of versions) {
        const listed = (entry.versions as Record<number, { payload: { type: string }; upcast?: unknown }>)[
          version
        ]
        expect(listed?.payload.type).toBe('object')
        expect(typeof listed?.upcast).toBe(version === 1 ? 'undefined' : 'function')
      }
    }
  })

  it('builds the latest version by default and any listed version on request, each valid', () => {
    const latest = createEvent(
      'user.password.changed',
      { userId: 'u_1', reason: 'reset' },
      { source: 'monolith' },
    )
    expect(latest.version).toBe(2)
    expect(decodeEvent(latest)).toMatchObject({ ok: true, known: true })
    const v1 = createEvent(
      'user.password.changed',
      { userId: 'u_1', via: 'reset' },
      { source: 'monolith', version: 1 },
    )
    expect(v1.version).toBe(1)
    expect(Object.keys(v1)).toEqual(['id', 'type', 'version', 'source', 'occurredAt', 'payload'])
    expect(decodeEvent(v1)).toMatchObject({ ok: true, known: true })
    const typeErrors = () => {
      // @ts-expect-error a v1 payload is not a v2 one (the default is the latest)
      createEvent('user.password.changed', { userId: 'u_1', via: 'reset' }, { source: 'monolith' })
      const type = 'user.password.changed' as const
      const asV1 = { source: 'monolith', version: 1 } as const
      // @ts-expect-error a v2 payload is not a v1 one
      createEvent(type, { userId: 'u', reason: 'reset' }, asV1)
      const publish = (event: AnyEvent) => event
      // @ts-expect-error the expected type does not widen the version: a v1 payload is not the latest
      publish(createEvent(type, { userId: 'u', via: 'reset' }, { source: 'monolith' }))
      const asV3 = { source: 'monolith', version: 3 } as const
      // @ts-expect-error version 3 is not listed
      createEvent(type, { userId: 'u', reason: 'reset' }, asV3)
    }
    expect(typeof typeErrors).toBe('function')
  })
})
