import { describe, expect, it } from 'bun:test'
import fc from 'fast-check'
import { decodeEntry, decodeEvent, encodeEntry, MAX_EVENT_BYTES } from './codec.ts'
import { createCustomEvent, createEvent } from './create-event.ts'

const registered = () =>
  createEvent(
    'user.registered',
    { userId: 'u_1', email: 'ada@example.com', locale: 'en' },
    { source: 'monolith', tenantId: 't_1', correlationId: 'c_1', actor: { type: 'user', id: 'u_1' } },
  )

const entry = (type: string, event: unknown) => ['type', type, 'event', JSON.stringify(event)]

describe('decodeEntry', () => {
  it('decodes a known event as typed and known', () => {
    const event = registered()
    const result = decodeEntry(encodeEntry(event))
    expect(result.ok).toBe(true)
    if (!result.ok || !result.known) throw new Error('expected a known event')
    expect(result.event.type).toBe('user.registered')
    if (result.event.type === 'user.registered') expect(result.event.payload.email).toBe('ada@example.com')
  })

  it('round-trips: decode(encode(e)) equals e', () => {
    const events = [
      registered(),
      createEvent(
        'auth.session.revoked',
        { sessionId: 's', userId: 'u', reason: 'logout' },
        { source: 'auth' },
      ),
      createCustomEvent('order.placed', { orderId: 'o_1', total: 12.5 }, { source: 'monolith' }),
    ]
    for (const event of events) {
      const result = decodeEntry(encodeEntry(event))
      if (!result.ok) throw result.error
      expect(result.event).toEqual(event)
      expect(encodeEntry(result.event)).toEqual(encodeEntry(event))
    }
  })

  it('accepts fields as an object as well as a flat list', () => {
    const event = registered()
    const result = decodeEntry({ type: event.type, event: JSON.stringify(event) })
    expect(result.ok).toBe(true)
  })

  it('accepts unknown types matching the envelope as opaque', () => {
    const event = createCustomEvent('order.placed', { anything: { goes: [1, 2] } }, { source: 'monolith' })
    const result = decodeEntry(encodeEntry(event))
    expect(result).toMatchObject({ ok: true, known: false })
  })

  it('treats a known type with an unknown version as opaque', () => {
    const event = { ...registered(), version: 2, payload: { renamed: true } }
    const result = decodeEntry(entry('user.registered', event))
    expect(result).toMatchObject({ ok: true, known: false })
  })

  it('lists every payload problem with its path', () => {
    const event = { ...registered(), payload: { email: 'not an email', extra: 1 } }
    const result = decodeEntry(entry('user.registered', event))
    if (result.ok) throw new Error('expected a contract error')
    const paths = result.error.problems.map((p) => p.path)
    expect(paths).toContain('/event/payload/userId')
    expect(paths).toContain('/event/payload/email')
    expect(paths.some((p) => p.startsWith('/event/payload'))).toBe(true)
    expect(result.error.code).toBe('CONTRACT_VIOLATION')
  })

  it('refuses a missing event field, a missing type field and invalid JSON', () => {
    const missing = decodeEntry(['type', 'user.registered'])
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.error.problems[0]?.path).toBe('/event')
    const noType = decodeEntry(['event', JSON.stringify(registered())])
    if (noType.ok) throw new Error('expected error')
    expect(noType.error.problems.map((p) => p.path)).toEqual(['/type'])
    const broken = decodeEntry(['type', 'user.registered', 'event', '{"id":'])
    if (broken.ok) throw new Error('expected error')
    expect(broken.error.problems[0]?.message).toContain('not valid JSON')
  })

  it('refuses a deleted (nil) entry', () => {
    expect(decodeEntry(null).ok).toBe(false)
  })

  it('refuses a type field that disagrees with the envelope', () => {
    const result = decodeEntry(entry('user.deleted', registered()))
    if (result.ok) throw new Error('expected error')
    expect(result.error.problems[0]?.path).toBe('/type')
  })

  it('refuses bad envelope fields: id, type pattern, version, timestamp, traceparent', () => {
    const bad = {
      ...registered(),
      id: 'not-a-uuid',
      type: 'UserRegistered',
      version: 0,
      occurredAt: '2026-13-45T99:00:00Z',
      traceparent: 'nope',
    }
    const result = decodeEvent(bad)
    if (result.ok) throw new Error('expected error')
    const paths = result.error.problems.map((p) => p.path)
    for (const p of ['/id', '/type', '/version', '/traceparent']) expect(paths).toContain(p)
  })

  it('refuses an impossible date that matches the pattern', () => {
    const result = decodeEvent({ ...registered(), occurredAt: '2026-02-30T25:61:00Z' })
    expect(result.ok).toBe(false)
  })

  it('refuses prototype-pollution keys anywhere', () => {
    const text = JSON.stringify(registered()).replace(
      '"payload":{',
      '"payload":{"__proto__":{"polluted":true},',
    )
    const result = decodeEntry(['type', 'user.registered', 'event', text])
    expect(result.ok).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses oversized events', () => {
    const event = createCustomEvent(
      'blob.stored',
      { data: 'x'.repeat(MAX_EVENT_BYTES) },
      { source: 'monolith' },
    )
    const result = decodeEntry(encodeEntry(event))
    if (result.ok) throw new Error('expected error')
    expect(result.error.problems[0]?.message).toContain('larger than')
  })

  it('returns a typed value or a ContractError for any input, never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 6 }), (fields) => {
        const result = decodeEntry(fields)
        expect(typeof result.ok).toBe('boolean')
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = decodeEntry(['type', 'user.registered', 'event', JSON.stringify(value) ?? ''])
        expect(result.ok).toBe(false)
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = decodeEvent(value)
        expect(typeof result.ok).toBe('boolean')
      }),
      { numRuns: 500 },
    )
  })
})

describe('prototype-pollution keys', () => {
  it('are refused when spelled with unicode escapes too', () => {
    for (const key of ['\\u005f_proto__', 'construct\\u006fr', '__proto__']) {
      const text = JSON.stringify(registered()).replace('"payload":{', `"payload":{"${key}":{"x":1},`)
      const result = decodeEntry(['type', 'user.registered', 'event', text])
      expect(result.ok).toBe(false)
    }
  })

  it('leave harmless unicode escapes alone', () => {
    const text = JSON.stringify(
      createCustomEvent('note.added', { text: 'caf\u00e9' }, { source: 'monolith' }),
    )
    const escaped = text.replace('é', '\\u00e9')
    expect(escaped).toContain('\\u00e9')
    expect(decodeEntry(['type', 'note.added', 'event', escaped]).ok).toBe(true)
  })
})

it('refuses an event whose version is an object that cannot become a string, with a ContractError', () => {
  const event = createEvent('user.registered', { userId: 'u1', email: 'a@example.com' }, { source: 'test' })
  const json = JSON.stringify({ ...event, version: { toString: {} } })
  const result = decodeEntry(['type', 'user.registered', 'event', json])
  expect(result.ok).toBe(false)
})
