import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createCustomEvent } from '@flotilla/contracts'
import { parse } from 'csv-parse/sync'
import { hashRecord } from '../records/hash.ts'
import { type AuditRecord, RECORD_FIELDS } from '../records/model.ts'
import { sampleEvent } from '../records/sample.ts'
import { createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
let token: string
const DANGEROUS = ['=1+2', '+SUM(A1)', '-2+3', '@cmd', '\tTAB', '\rCR', 'plain, "quoted"\nnext line']

beforeAll(async () => {
  // A small page size so the export crosses many pages.
  t = await createTestApp({ exportPageSize: 7 })
  token = await t.serviceToken()
  await t.ingest(Array.from({ length: 40 }, (_, i) => sampleEvent(i % 2 ? 'ex' : 'other', i)))
  await t.ingest(
    DANGEROUS.map((text, i) =>
      createCustomEvent(
        'note.added',
        { text },
        {
          source: 'monolith',
          tenantId: 'ex',
          actor: { type: 'user', id: text },
          occurredAt: new Date(Date.UTC(2027, 0, 1, 0, i)),
        },
      ),
    ),
  )
})
afterAll(() => t.close())

describe('GET /v1/audit/export', () => {
  it('streams NDJSON that parses back into records whose hashes still verify', async () => {
    const res = await t.get('/v1/audit/export?format=ndjson&tenantId=ex', token)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('application/x-ndjson')
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="audit-ex-\d{8}T\d{6}Z\.ndjson"$/,
    )
    expect(res.headers.get('x-total-count')).toBe('27')
    const lines = (await res.text()).trimEnd().split('\n')
    const records = lines.map((l) => JSON.parse(l) as AuditRecord)
    expect(records).toHaveLength(27)
    expect(Object.keys(records[0] as object)).toEqual([...RECORD_FIELDS])
    for (const r of records) expect(hashRecord(r)).toBe(r.hash)
    expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 27 }, (_, i) => i + 1),
    )
    expect(new Set(records.map((r) => r.tenantId))).toEqual(new Set(['ex']))
  })

  it('streams CSV that parses back, with every formula-like cell defused', async () => {
    const res = await t.get('/v1/audit/export?format=csv&tenantId=ex&type=note.*', token)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/csv')
    expect(res.headers.get('content-disposition')).toContain('.csv"')
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(DANGEROUS.length)
    expect(Object.keys(rows[0] as object)).toEqual([...RECORD_FIELDS])
    const actors = rows.map((r) => r.actorId).reverse()
    expect(actors).toEqual(DANGEROUS.map((d) => (/^[=+\-@\t\r]/.test(d) ? `'${d}` : d)))
    for (const row of rows) {
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
      expect(row.seq).toMatch(/^\d+$/)
      expect(JSON.parse(row.payload as string)).toHaveProperty('text')
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
      expect(row.prevHash).toMatch(/^[0-9a-f]{64}$/)
    }
  })

  it('applies the same filters as the search', async () => {
    const search = (await (
      await t.get('/v1/audit/events?tenantId=ex&type=order.*&limit=500', token)
    ).json()) as {
      items: AuditRecord[]
    }
    const exported = (await (await t.get('/v1/audit/export?tenantId=ex&type=order.*', token)).text())
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditRecord).eventId)
    expect(exported).toEqual(search.items.map((r) => r.eventId))
  })

  it('sends only the CSV header, or nothing, when no record matches', async () => {
    const csv = await (await t.get('/v1/audit/export?format=csv&tenantId=nobody', token)).text()
    expect(csv).toBe(`${RECORD_FIELDS.join(',')}\n`)
    const ndjson = await t.get('/v1/audit/export?tenantId=nobody', token)
    expect(ndjson.headers.get('x-total-count')).toBe('0')
    expect(await ndjson.text()).toBe('')
  })

  it('refuses an unknown format', async () => {
    expect((await t.get('/v1/audit/export?format=xlsx', token)).status).toBe(422)
  })
})
