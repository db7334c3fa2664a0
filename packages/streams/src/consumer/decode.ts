/**
 * Decoding a batch: entries as read → the messages a handler gets, the contract violations to dead-letter and the
 * entries to ack unhandled. Pure work on the entries (no Redis, no counters, no hooks), so it may run as soon as a
 * read's reply arrives, while the batch before it is still being handled.
 */
import { decodeEntry, ENTRY_FIELDS } from '@flotilla/contracts'
import { reasonOf } from '../errors.ts'
import { type Delivery, fieldsToRecord } from './replies.ts'
import type { DeadLetterItem } from './settle.ts'
import type { ConsumerMessage } from './types.ts'

/** One batch, decoded. Each entry read is in exactly one of `messages`, `deleted`, `skipped` and `invalid`. */
export interface DecodedBatch {
  /** Every entry's id, in read order. */
  readonly ids: string[]
  readonly messages: ConsumerMessage[]
  /** The fields of `messages[i]`, for its dead letter if it fails. */
  readonly records: Record<string, string>[]
  /** Entries deleted (trimmed) before they were read: nothing to handle, acked so they leave the pending list. */
  readonly deleted: string[]
  /** Replays meant for another group: acked without handling. */
  readonly skipped: string[]
  /** Contract violations, dead-lettered before the handler runs. */
  readonly invalid: DeadLetterItem[]
}

const emptyBatch = (ids: string[]): DecodedBatch => ({
  ids,
  messages: [],
  records: [],
  deleted: [],
  skipped: [],
  invalid: [],
})

// The field names a runner reads, as bytes: a name read as a Buffer is matched here instead of decoded.
const KNOWN_NAMES = [ENTRY_FIELDS.type, ENTRY_FIELDS.event, 'replayFor', 'replayOf'].map(
  (name) => [name, Buffer.from(name)] as const,
)

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A field name from a reply: a known one without decoding it. */
const nameOf = (value: unknown): string => {
  if (typeof value === 'string') return value
  if (!(value instanceof Buffer)) return String(value)
  for (const [name, bytes] of KNOWN_NAMES) if (sameBytes(value, bytes)) return name
  return value.toString()
}

/** A field value from a reply, as ioredis would have decoded it (UTF-8). */
const textOf = (value: unknown): string =>
  typeof value === 'string' ? value : value instanceof Buffer ? value.toString() : String(value)

/** `[k, v, …]` as strings or Buffers → a record without a prototype. */
const recordOf = (list: readonly unknown[]): Record<string, string> => {
  const record: Record<string, string> = Object.create(null)
  for (let i = 0; i + 1 < list.length; i += 2) record[nameOf(list[i])] = textOf(list[i + 1])
  return record
}

/** Decodes one entry (its id already in `batch.ids`). Runs for every entry read: no spread, one literal per case. */
const addEntry = (
  batch: DecodedBatch,
  group: string,
  id: string,
  fields: Record<string, string> | null,
  deliveryCount: number,
): void => {
  if (fields === null) {
    batch.deleted.push(id)
    return
  }
  const replayFor = fields.replayFor
  if (replayFor !== undefined && replayFor !== group) {
    batch.skipped.push(id)
    return
  }
  const decoded = decodeEntry(fields)
  if (!decoded.ok) {
    batch.invalid.push({ id, fields, deliveries: deliveryCount, reason: reasonOf(decoded.error) })
    return
  }
  const replayOf = fields.replayOf
  const message: ConsumerMessage =
    replayOf === undefined
      ? decoded.known
        ? { streamId: id, deliveryCount, group, known: true, event: decoded.event }
        : { streamId: id, deliveryCount, group, known: false, event: decoded.event }
      : decoded.known
        ? { streamId: id, deliveryCount, group, replayOf, known: true, event: decoded.event }
        : { streamId: id, deliveryCount, group, replayOf, known: false, event: decoded.event }
  batch.messages.push(message)
  batch.records.push(fields)
}

/** Decodes deliveries (a history read, a reclaimer's claims). */
export const decodeDeliveries = (group: string, deliveries: readonly Delivery[]): DecodedBatch => {
  const batch = emptyBatch(deliveries.map((d) => d.id))
  for (const d of deliveries)
    addEntry(batch, group, d.id, d.fields === null ? null : fieldsToRecord(d.fields), d.deliveryCount)
  return batch
}

/** Entries read with `>` (each on its first delivery): their ids, and their field lists as read. */
export interface NewEntries {
  readonly ids: string[]
  /** `[k, v, …]` per entry (strings, or Buffers when read with `callBuffer`); null for an entry deleted meanwhile. */
  readonly fields: (readonly unknown[] | null)[]
}

/**
 * XREADGROUP's reply for one stream (`[[stream, [[id, [k, v, …]], …]]]`, or null on a timeout), strings or
 * Buffers, taken from ioredis' arrays as they are: no object per entry. Only the ids are decoded here.
 */
export const newEntriesOf = (reply: unknown): NewEntries => {
  const ids: string[] = []
  const fields: (readonly unknown[] | null)[] = []
  const stream = Array.isArray(reply) ? reply[0] : undefined
  const entries: unknown = Array.isArray(stream) ? stream[1] : undefined
  if (!Array.isArray(entries)) return { ids, fields }
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue
    const id: unknown = entry[0]
    const list: unknown = entry[1]
    if (typeof id === 'string') ids.push(id)
    // A stream id is ASCII (`<ms>-<seq>`).
    else if (id instanceof Buffer) ids.push(id.toString('latin1'))
    else continue
    fields.push(Array.isArray(list) ? list : null)
  }
  return { ids, fields }
}

/** Decodes entries read with `>`; the batch shares their id list. */
export const decodeNewEntries = (group: string, entries: NewEntries): DecodedBatch => {
  const { ids, fields } = entries
  const batch = emptyBatch(ids)
  for (let i = 0; i < ids.length; i++) {
    const list = fields[i]
    addEntry(batch, group, ids[i] as string, list ? recordOf(list) : null, 1)
  }
  return batch
}
