import { describe, expect, it } from 'bun:test'
import { type TSchema, Type } from '@sinclair/typebox'
import { breakingChanges, breakingChangesOfFiles, type JsonSchema } from './breaking.ts'

// Small schemas, as the generated files hold them (TypeBox output through a JSON round trip).
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as JsonSchema
const fields = {
  userId: Type.String({ maxLength: 200 }),
  count: Type.Number(),
  via: Type.Optional(Type.Union([Type.Literal('settings'), Type.Literal('reset')])),
}
const changed = (props: Record<string, TSchema>) =>
  plain(Type.Object({ ...fields, ...props }, { additionalProperties: false }))
const v1 = changed({})

describe('breakingChanges', () => {
  it('fails a removed field, naming a likely rename', () => {
    const { userId, count } = v1.properties as Record<string, unknown>
    const after = plain({ ...v1, properties: { userId, count, how: { type: 'string' } } })
    expect(breakingChanges(v1, after)).toEqual([
      { path: '/via', kind: 'field-removed', message: 'field "via" was removed (renamed to "how"?)' },
    ])
  })

  it('fails a narrowed type (number → integer, string → a shorter string)', () => {
    const after = changed({ count: Type.Integer(), userId: Type.String({ maxLength: 20 }) })
    expect(breakingChanges(v1, after).map((c) => [c.path, c.kind])).toEqual([
      ['/userId', 'constraint-narrowed'],
      ['/count', 'type-narrowed'],
    ])
  })

  it('fails a new required field', () => {
    const after = plain({ ...changed({ reason: Type.String() }), required: ['userId', 'count', 'reason'] })
    expect(breakingChanges(v1, after)).toEqual([
      { path: '/reason', kind: 'field-required', message: 'new required field "reason"' },
    ])
  })

  it('fails a removed enum value', () => {
    const after = changed({ via: Type.Optional(Type.Union([Type.Literal('settings')])) })
    expect(breakingChanges(v1, after)).toEqual([
      { path: '/via', kind: 'enum-value-removed', message: 'value "reset" is no longer allowed' },
    ])
  })

  it('passes an added optional field, a widened type and an added enum value', () => {
    const after = changed({
      note: Type.Optional(Type.String()),
      userId: Type.String({ maxLength: 500 }),
      via: Type.Optional(
        Type.Union([Type.Literal('settings'), Type.Literal('reset'), Type.Literal('admin')]),
      ),
    })
    expect(breakingChanges(v1, after)).toEqual([])
  })
})

describe('breakingChangesOfFiles', () => {
  it('passes an added version and fails a removed one', () => {
    const v2 = plain({ ...changed({}), required: ['userId', 'count', 'via'] })
    expect(breakingChangesOfFiles({ 'x.v1.json': v1 }, { 'x.v1.json': v1, 'x.v2.json': v2 })).toEqual([])
    expect(breakingChangesOfFiles({ 'x.v1.json': v1 }, { 'x.v2.json': v2 })).toMatchObject([
      { file: 'x.v1.json', change: { kind: 'version-removed' } },
    ])
  })
})
