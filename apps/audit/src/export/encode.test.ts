import { describe, expect, it } from 'bun:test'
import { parse } from 'csv-parse/sync'
import { sealRecord } from '../records/hash.ts'
import { RECORD_FIELDS } from '../records/model.ts'
import { sampleInput } from '../records/sample.ts'
import { CSV_HEADER, csvCell, toCsv, toNdjson } from './encode.ts'

describe('CSV cells', () => {
  it('prefixes a quote to every cell a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']) {
      expect(csvCell(`${start}HYPERLINK("x")`).replace(/^"/, '')).toStartWith(`'${start}`)
    }
    expect(csvCell('safe = text')).toBe('safe = text')
  })

  it('quotes cells with quotes, commas or line breaks, doubling inner quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell(null)).toBe('')
    expect(csvCell(42)).toBe('42')
  })
})

describe('export encodings', () => {
  const records = [
    sealRecord(
      sampleInput({ actorId: '=cmd|"/c calc"!A1', payload: { note: 'a,b\n"c"' } }),
      'c',
      1,
      '0'.repeat(64),
    ),
    sealRecord(sampleInput({ actorId: null, correlationId: 'x' }), 'c', 2, 'f'.repeat(64)),
  ]

  it('writes CSV that csv-parse reads back field for field', () => {
    const rows = parse(toCsv(records, true), { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(2)
    expect(rows[0]?.actorId).toBe(`'${records[0]?.actorId}`)
    expect(JSON.parse(rows[0]?.payload as string)).toEqual(records[0]?.payload as object)
    expect(rows[1]?.actorId).toBe('')
    expect(rows[1]?.seq).toBe('2')
    expect(rows[1]?.hash).toBe(records[1]?.hash as string)
    expect(toCsv([], true)).toBe(CSV_HEADER)
    expect(toCsv(records, false)).not.toContain(CSV_HEADER)
  })

  it('writes one JSON object per line with the fields in export order', () => {
    const lines = toNdjson(records).trimEnd().split('\n')
    expect(lines.map((l) => JSON.parse(l))).toEqual(records)
    expect(Object.keys(JSON.parse(lines[0] as string))).toEqual([...RECORD_FIELDS])
  })
})
