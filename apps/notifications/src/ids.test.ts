import { describe, expect, it } from 'bun:test'
import { derivedId, timeOrderedId } from './ids.ts'

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('timeOrderedId', () => {
  it('is one id per name, a version 8 UUID carrying the event time of its v7 origin', () => {
    const origin = Bun.randomUUIDv7('hex', Date.UTC(2026, 11, 4))
    const id = timeOrderedId(`delivery|${origin}|email|a@example.com`, origin)
    expect(id).toMatch(UUID_V8)
    expect(timeOrderedId(`delivery|${origin}|email|a@example.com`, origin)).toBe(id)
    expect(timeOrderedId(`delivery|${origin}|sms|a@example.com`, origin)).not.toBe(id)
    expect(id.slice(0, 13)).toBe(origin.slice(0, 13))
    // The rest is the name's digest, as derivedId has it.
    expect(id.slice(13)).toBe(derivedId(`delivery|${origin}|email|a@example.com`).slice(13))
  })

  it('sorts ids by the time of their origin events', () => {
    const origins = [1, 2, 3, 1000, 86_400_000].map((ms) =>
      Bun.randomUUIDv7('hex', Date.UTC(2026, 0, 1) + ms),
    )
    const ids = origins.map((o) => timeOrderedId(`delivery|${o}|email|x`, o))
    expect([...ids].sort()).toEqual(ids)
  })

  it('is derivedId of the name when the origin is not a UUIDv7', () => {
    for (const origin of ['req-42', crypto.randomUUID(), derivedId('x')])
      expect(timeOrderedId(`delivery|${origin}|email|x`, origin)).toBe(
        derivedId(`delivery|${origin}|email|x`),
      )
    const upper = Bun.randomUUIDv7().toUpperCase()
    expect(timeOrderedId('n', upper)).toMatch(UUID_V8)
  })
})

describe('derivedId', () => {
  it('never changes: stored rows are found again by the ids derived before', () => {
    expect(derivedId('notification.sent|x')).toBe('94b7d54b-facd-864f-9de0-7f03fcafb8e9')
    expect(derivedId('')).toBe('e3b0c442-98fc-8c14-9afb-f4c8996fb924')
    expect(derivedId('delivery|0192f3a0-0000-7000-8000-000000000000|email|email:a@example.com')).toBe(
      'ca9c5d8c-6950-8e3d-99c7-00a895ac32eb',
    )
  })
})
