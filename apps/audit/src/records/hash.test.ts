import { describe, expect, it } from 'bun:test'
import canonicalize from 'canonicalize'
import { canonicalRecord, type HashedFields, hashRecord, sealRecord } from './hash.ts'
import { sampleInput } from './sample.ts'

/** The definition: RFC 8785 canonical JSON (the canonicalize package) of every field but `hash`. */
const reference = (fields: object): string => {
  const { hash: _ignored, ...rest } = fields as { hash?: unknown }
  return canonicalize(rest) as string
}

const sha256 = (text: string) => new Bun.CryptoHasher('sha256').update(text).digest('hex')

const fieldsOf = (overrides: Partial<HashedFields> = {}): HashedFields => ({
  ...sampleInput(),
  chain: 'tenant-a',
  seq: 1,
  prevHash: '0'.repeat(64),
  ...overrides,
})

describe('canonical JSON of a record', () => {
  const cases: [string, HashedFields][] = [
    ['a sample record', fieldsOf()],
    [
      'nulls in every nullable field',
      fieldsOf({
        tenantId: null,
        actorType: null,
        actorId: null,
        subjectType: null,
        subjectId: null,
        correlationId: null,
        causationId: null,
      }),
    ],
    [
      'strings that need escaping',
      fieldsOf({
        source: 'quote " backslash \\ newline \n tab \t nul \u0000',
        actorId: 'é✓😀',
        type: '\u2028\u2029',
      }),
    ],
    ['a lone surrogate', fieldsOf({ subjectId: 'broken \ud800 pair' })],
    [
      'numbers of every shape in the payload',
      fieldsOf({
        payload: { big: 1e21, small: 1e-7, neg: -0, frac: 0.1 + 0.2, max: Number.MAX_SAFE_INTEGER },
      }),
    ],
    [
      'nested payload keys out of order, unicode keys',
      fieldsOf({
        payload: {
          z: { b: 1, a: [3, { y: null, x: true }] },
          é: 1,
          a: 'first',
          '\u20ac': 2,
          '\ud83d\ude00': 3,
          A: 4,
        },
      }),
    ],
    ['an empty payload', fieldsOf({ payload: {} })],
    ['a large seq and version', fieldsOf({ seq: 2 ** 40, version: 12 })],
  ]
  for (const [name, fields] of cases) {
    it(`matches canonicalize byte for byte: ${name}`, () => {
      expect(canonicalRecord(fields)).toBe(reference(fields))
      expect(hashRecord(fields)).toBe(sha256(reference(fields)))
    })
  }

  it('ignores the record’s own hash and the order its keys were written in', () => {
    const fields = fieldsOf()
    const reversed = Object.fromEntries(Object.entries({ ...fields, hash: 'x' }).reverse()) as HashedFields
    expect(canonicalRecord(reversed)).toBe(reference(fields))
  })

  it('leaves out undefined fields exactly as canonicalize does', () => {
    const fields = { ...fieldsOf(), tenantId: undefined, action: undefined } as unknown as HashedFields
    expect(canonicalRecord(fields)).toBe(reference(fields))
    const firstMissing = { ...fieldsOf(), action: undefined } as unknown as HashedFields
    expect(canonicalRecord(firstMissing)).toStartWith('{"actorId":')
    expect(canonicalRecord(firstMissing)).toBe(reference(firstMissing))
  })

  it('writes odd values in schema fields exactly as canonicalize does', () => {
    const odd = (overrides: Record<string, unknown>) =>
      ({ ...fieldsOf(), ...overrides }) as unknown as HashedFields
    const cases = [
      odd({ actorId: { b: 1, a: [2, 1] } }),
      odd({ source: ['x', null] }),
      odd({ version: true, tenantId: false }),
      odd({ payload: null }),
      odd({ payload: 'text' }),
      odd({ hash: 'ignored', subjectId: Symbol('s') }),
    ]
    for (const fields of cases) expect(canonicalRecord(fields)).toBe(reference(fields))
    const beforePayload = [
      'action',
      'actorId',
      'actorType',
      'causationId',
      'chain',
      'correlationId',
      'eventId',
      'occurredAt',
    ]
    const nothingBefore = odd(Object.fromEntries(beforePayload.map((k) => [k, undefined])))
    expect(canonicalRecord(nothingBefore)).toStartWith('{"payload":')
    expect(canonicalRecord(nothingBefore)).toBe(reference(nothingBefore))
  })

  it('writes a record with a field left out, hidden or inherited exactly as canonicalize does', () => {
    const { action: _left, ...leftOut } = fieldsOf()
    const hidden = fieldsOf()
    Object.defineProperty(hidden, 'source', { value: 'hidden', enumerable: false })
    const inherited = Object.assign(Object.create({ action: 'inherited', extra: 1 }), leftOut)
    for (const fields of [leftOut, hidden, inherited] as HashedFields[]) {
      expect(canonicalRecord(fields)).toBe(reference(fields))
    }
    expect(canonicalRecord(hidden)).not.toContain('"source"')
  })

  it('covers fields beyond the schema when a record carries them', () => {
    const fields = { ...fieldsOf(), extra: { b: 2, a: 1 } } as HashedFields
    expect(canonicalRecord(fields)).toBe(reference(fields))
    expect(canonicalRecord(fields)).toContain('"extra":{"a":1,"b":2}')
  })

  it('writes payloads JSON.stringify would order or encode differently exactly as canonicalize does', () => {
    const holes: unknown[] = [1]
    holes[2] = 3
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: 2 })
    const payloads: unknown[] = [
      { 10: 'ten', 9: 'nine', 1: 'one', a: 0 },
      JSON.parse('{"__proto__": {"x": 1}, "a": 1}'),
      { list: holes },
      { when: new Date(0), nested: { toJSON: () => 'custom' } },
      { fn: () => 1, sym: Symbol('s'), u: undefined, kept: 'yes' },
      { list: [undefined, Symbol('s'), { z: 1, y: [2, { b: null, a: false }] }] },
      nullProto,
      { '': 'empty key', '\u0000': 'nul key', '\ud800': 'lone surrogate key' },
      { deep: { c: { b: { a: [1e21, 1e-7, -0, 0.1 + 0.2] } } } },
    ]
    for (const payload of payloads) {
      const fields = fieldsOf({ payload: payload as Record<string, unknown> })
      expect(canonicalRecord(fields)).toBe(reference(fields))
    }
  })

  it('matches canonicalize on random JSON payloads', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const keyOf = () => ['a', 'B', 'é', '10', '2', 'z_', '\u20ac', 'x y'][Math.floor(random() * 8)] as string
    const jsonValue = (depth: number): unknown => {
      const r = random()
      if (depth > 2 || r < 0.4) return [null, true, 'text', -1.5, 2 ** 53, '"q"\n'][Math.floor(random() * 6)]
      if (r < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => jsonValue(depth + 1))
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 5) }, () => [keyOf(), jsonValue(depth + 1)]),
      )
    }
    for (let i = 0; i < 500; i++) {
      const fields = fieldsOf({ payload: jsonValue(0) as Record<string, unknown> })
      if (typeof fields.payload !== 'object' || fields.payload === null) continue
      expect(canonicalRecord(fields)).toBe(reference(fields))
    }
  })

  it('refuses what RFC 8785 cannot encode', () => {
    expect(() => canonicalRecord(fieldsOf({ payload: { x: Number.NaN } }))).toThrow(/NaN/)
    expect(() => canonicalRecord(fieldsOf({ seq: Number.POSITIVE_INFINITY }))).toThrow(/Infinity/)
    expect(() => canonicalRecord(fieldsOf({ version: Number.NaN }))).toThrow(/NaN/)
  })

  it('seals a record whose hash covers its chain position and predecessor', () => {
    const { chain: _c, seq: _s, prevHash: _p, ...input } = fieldsOf()
    const record = sealRecord(input, 'c', 2, 'f'.repeat(64))
    expect(record).toMatchObject({ chain: 'c', seq: 2, prevHash: 'f'.repeat(64) })
    expect(record.hash).toBe(sha256(reference(record)))
    expect(sealRecord(input, 'c', 3, 'f'.repeat(64)).hash).not.toBe(record.hash)
  })
})
