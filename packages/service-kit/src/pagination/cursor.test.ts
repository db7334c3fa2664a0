import { describe, expect, it } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { AppError } from '../errors/app-error.ts'
import { createCursorCodec } from './cursor.ts'

const Position = Type.Object({ at: Type.Integer(), id: Type.String({ minLength: 1, maxLength: 200 }) })
const codec = createCursorCodec(Position)
const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const refusal = (cursor: string) => {
  try {
    codec.decode(cursor)
  } catch (error) {
    if (error instanceof AppError) return [error.status, error.code]
    throw error
  }
  return 'accepted'
}

describe('createCursorCodec', () => {
  it('round-trips a position through an opaque url-safe string', () => {
    const cursor = codec.encode({ at: 1_767_225_600_000, id: '0193a-e' })
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(codec.decode(cursor)).toEqual({ at: 1_767_225_600_000, id: '0193a-e' })
    expect(codec.decodeOptional(cursor)).toEqual({ at: 1_767_225_600_000, id: '0193a-e' })
    expect(codec.decodeOptional(undefined)).toBeUndefined()
  })

  it('writes a versioned JSON object', () => {
    const json = Buffer.from(codec.encode({ at: 1, id: 'x' }), 'base64url').toString('utf8')
    expect(JSON.parse(json)).toEqual({ v: 1, at: 1, id: 'x' })
  })

  it('answers 400 INVALID_CURSOR to garbage, to another version and to the wrong shape', () => {
    const bad = [
      '',
      'not-ours',
      '!!!',
      'a'.repeat(600),
      Buffer.from('{"v":1,').toString('base64url'),
      raw([1, 1, 'x']), // an older, array-shaped cursor
      raw({ v: 2, at: 1, id: 'x' }),
      raw({ at: 1, id: 'x' }),
      raw({ v: 1, at: '1', id: 'x' }),
      raw({ v: 1, at: 1.5, id: 'x' }),
      raw({ v: 1, at: 1 }),
      raw({ v: 1, at: 1, id: '' }),
      raw({ v: 1, at: 1, id: 'x', extra: true }),
      raw(null),
      raw('x'),
    ]
    for (const cursor of bad) expect([cursor, refusal(cursor)]).toEqual([cursor, [400, 'INVALID_CURSOR']])
  })

  it('refuses the cursors of an earlier version once the version is bumped', () => {
    const v2 = createCursorCodec(Position, { version: 2 })
    const old = codec.encode({ at: 1, id: 'x' })
    expect(() => v2.decode(old)).toThrow(AppError)
    expect(v2.decode(v2.encode({ at: 1, id: 'x' }))).toEqual({ at: 1, id: 'x' })
  })

  it('refuses a position schema that claims the version property', () => {
    expect(() => createCursorCodec(Type.Object({ v: Type.String() }))).toThrow(/`v`/)
  })
})
