import { describe, expect, it } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { decodeEntry, encodeEntry } from './codec.ts'
import { createCustomEvent, createEvent } from './create-event.ts'
import { UserPasswordChangedV2, userPasswordChangedV1ToV2 } from './events/user.ts'
import { upcastEvent } from './upcast.ts'

const v1 = (via?: 'settings' | 'reset' | 'admin') =>
  createEvent(
    'user.password.changed',
    { userId: 'u_1', ...(via ? { via } : {}) },
    { source: 'monolith', version: 1 },
  )

describe('upcasting user.password.changed', () => {
  it('maps every v1 payload to a valid v2 payload (via → reason, no session kept)', () => {
    const check = TypeCompiler.Compile(UserPasswordChangedV2)
    const cases = [
      [undefined, 'change'],
      ['settings', 'change'],
      ['reset', 'reset'],
      ['admin', 'admin'],
    ] as const
    for (const [via, reason] of cases) {
      const v2 = userPasswordChangedV1ToV2({ userId: 'u_1', ...(via ? { via } : {}) })
      expect(v2).toEqual({ userId: 'u_1', reason })
      expect(check.Check(v2)).toBe(true)
    }
  })

  it('brings a v1 event to v2 without touching the original (audit keeps what was published)', () => {
    const original = v1('reset')
    const frozen = structuredClone(original)
    const result = upcastEvent(original, 2)
    expect(result).toEqual({
      ok: true,
      event: { ...frozen, version: 2, payload: { userId: 'u_1', reason: 'reset' } } as never,
    })
    expect(original).toEqual(frozen)
  })

  it('hands an event already at the asked version over as is', () => {
    const event = createEvent(
      'user.password.changed',
      { userId: 'u_1', reason: 'admin' },
      { source: 'monolith' },
    )
    expect(upcastEvent(event, 2)).toEqual({ ok: true, event })
  })

  it('refuses a version newer than the one asked for, an unlisted one and an unknown type, saying why', () => {
    const v2 = createEvent(
      'user.password.changed',
      { userId: 'u_1', reason: 'change' },
      { source: 'monolith' },
    )
    expect(upcastEvent(v2, 1)).toEqual({
      ok: false,
      reason: 'user.password.changed v2 is newer than v1, the version this consumer handles',
    })
    const v99 = { ...v2, version: 99 } as never
    expect(upcastEvent(v99, 2)).toMatchObject({ ok: false, reason: expect.stringContaining('v99 is not in') })
    const custom = createCustomEvent('order.placed', { orderId: 'o' }, { source: 'monolith' })
    expect(upcastEvent(custom, 1)).toMatchObject({ ok: false })
  })
})

describe('decoding several versions', () => {
  it('validates each listed version against its own schema and leaves the event as published', () => {
    const old = v1('settings')
    const decoded = decodeEntry(encodeEntry(old))
    expect(decoded).toEqual({ ok: true, known: true, event: old })
    const wrong = { ...old, payload: { userId: 'u_1', reason: 'change' } }
    expect(decodeEntry(encodeEntry(wrong as never))).toMatchObject({ ok: false })
  })

  it('decodes an unlisted version of a known type as opaque (the typed consumer decides)', () => {
    const v99 = { ...v1(), version: 99, payload: { userId: 'u_1', anything: true } }
    expect(decodeEntry(encodeEntry(v99 as never))).toMatchObject({ ok: true, known: false, event: v99 })
  })
})
