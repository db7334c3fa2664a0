/** Export encodings: NDJSON and CSV (RFC 4180, cells that a spreadsheet would run as a formula escaped). */
import { stringify } from 'csv-stringify/sync'
import { type AuditRecord, RECORD_FIELDS } from '../records/model.ts'

export type ExportFormat = 'ndjson' | 'csv'

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

/** One record per line, keys in export order. */
export const toNdjson = (records: readonly AuditRecord[]): string => {
  let out = ''
  for (const r of records) {
    const ordered: Record<string, unknown> = {}
    for (const f of RECORD_FIELDS) ordered[f] = r[f]
    out += `${JSON.stringify(ordered)}\n`
  }
  return out
}

/** A CSV cell: numbers stay numbers, the payload is its JSON text, absent values are empty. */
const cellsOf = (r: AuditRecord): (string | number | null)[] =>
  RECORD_FIELDS.map((f) => (f === 'payload' ? JSON.stringify(r.payload) : r[f]))

/**
 * CSV rows (with the header row when `header`). csv-stringify's `escape_formulas` prefixes `'` to cells
 * starting with `=`, `+`, `-`, `@`, tab or CR (OWASP CSV injection), and quoting follows RFC 4180.
 */
export const toCsv = (records: readonly AuditRecord[], header: boolean): string =>
  stringify(records.map(cellsOf), {
    header,
    columns: [...RECORD_FIELDS],
    escape_formulas: true,
    record_delimiter: 'unix',
  })
