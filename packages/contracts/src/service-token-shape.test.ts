import { describe, expect, it } from 'bun:test'
import { compactShapeProblem, hasDuplicateKeys, isStrictBase64url } from './service-token-shape.ts'
import { inputsNotAnswering } from './testing.ts'

const seg = (text: string) => Buffer.from(text).toString('base64url')

describe('isStrictBase64url', () => {
  it('accepts the canonical unpadded spelling', () => {
    for (const bytes of ['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u00fe?>'])
      expect(isStrictBase64url(seg(bytes)), bytes).toBe(true)
  })

  it('refuses padding, the standard alphabet, impossible lengths, unused bits set and other characters', () => {
    for (const segment of ['YQ==', 'YQ=', 'YWI=', 'a+b/', 'Y', 'YR', 'YWJ', 'YW J', 'YW\nJj', 'YWJj.', 'ÿ'])
      expect(isStrictBase64url(segment), segment).toBe(false)
  })
})

describe('hasDuplicateKeys', () => {
  it('finds a key written twice in the same object, at any depth, after unescaping', () => {
    expect(
      inputsNotAnswering(true, hasDuplicateKeys, [
        '{"a":1,"a":2}',
        '{"a":1, "b":{"c":1,"c":2}}',
        '{"x":[{"k":1,"k":1}]}',
        '{"a":1,"\\u0061":2}',
        '{ "a" : 1 , "b" : 2 , "a" : 3 }',
      ]),
    ).toEqual([])
  })

  it('lets the same key in different objects, and keys inside string values, through', () => {
    expect(
      inputsNotAnswering(false, hasDuplicateKeys, [
        '{}',
        '{"a":1,"b":{"a":1}}',
        '[{"a":1},{"a":2}]',
        '{"a":"\\"a\\":1,","b":"{\\"a\\":2}"}',
        '{"a":["a","a"],"b":"a"}',
        '{"aud":"auth","aud2":"auth"}',
      ]),
    ).toEqual([])
  })
})

describe('compactShapeProblem', () => {
  const header = seg('{"alg":"HS256","typ":"service+jwt"}')
  const payload = seg('{"iss":"a","aud":"b"}')

  it('passes a sound compact token', () => {
    expect(compactShapeProblem(`${header}.${payload}.${seg('signature')}`)).toBeUndefined()
  })

  it('names what is wrong', () => {
    expect(compactShapeProblem(`${header}.${payload}`)).toBe('token must have three segments')
    expect(compactShapeProblem(`${header}.${payload}.`)).toBe('token segment 3 is not strict base64url')
    expect(compactShapeProblem(`${header}=.${payload}.c2ln`)).toBe('token segment 1 is not strict base64url')
    expect(compactShapeProblem(`${header}.${seg('[1]')}.c2ln`)).toBe('token payload is not a JSON object')
    expect(compactShapeProblem(`${seg('{nope')}.${payload}.c2ln`)).toBe('token header is not JSON')
    expect(compactShapeProblem(`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${payload}.c2ln`)).toBe(
      'token header is not UTF-8',
    )
    expect(compactShapeProblem(`${header}.${seg('{"aud":"a","aud":"b"}')}.c2ln`)).toBe(
      'token payload repeats a key',
    )
  })
})
