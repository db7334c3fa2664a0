/** Streams an export page by page (keyset), so memory stays flat however many records match. */
import type { AuditStore, PageKey, RecordFilter } from '../store/types.ts'
import { type ExportFormat, toCsv, toNdjson } from './encode.ts'

export interface ExportOptions {
  readonly store: AuditStore
  readonly filter: RecordFilter
  readonly format: ExportFormat
  /** Records per store query. @defaultValue 1000 */
  readonly pageSize?: number
  /** Told after each page how many records went out so far (progress for logs). */
  readonly onProgress?: (records: number) => void
  /** Told once, when the last page went out, how many records the export held. */
  readonly onDone?: (records: number) => void
}

/**
 * A pull-based stream: the next page is read from the store only when the consumer asks for more, so at
 * most one page (plus one encoded chunk in flight) is ever held.
 */
export const exportStream = (options: ExportOptions): ReadableStream<Uint8Array> => {
  const { store, filter, format } = options
  const pageSize = options.pageSize ?? 1000
  const encoder = new TextEncoder()
  let after: PageKey | undefined
  let first = true
  let sent = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const page = await store.list(filter, { limit: pageSize, ...(after ? { after } : {}) })
        const text = format === 'csv' ? toCsv(page.records, first) : toNdjson(page.records)
        first = false
        sent += page.records.length
        options.onProgress?.(sent)
        if (text.length > 0) controller.enqueue(encoder.encode(text))
        if (page.next) after = page.next
        else {
          controller.close()
          options.onDone?.(sent)
        }
      },
    },
    { highWaterMark: 0 },
  )
}
