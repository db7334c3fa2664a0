/**
 * Decoding a batch: entries as read → the messages a handler gets, the contract violations to dead-letter and the
 * entries to ack unhandled. Pure work on the entries (no Redis, no counters, no hooks), so it may run as soon as a
 * read's reply arrives, while the batch before it is still being handled.
 */
import { decodeEntry } from '@flotilla/contracts'
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

const isStrings = (list: readonly unknown[]): list is string[] => {
  for (const value of list) if (typeof value !== 'string') return false
  return true
}

/** Decodes one entry (its id already in `batch.ids`). Runs for every entry read: no spread, one literal per case. */
const addEntry = (
  batch: DecodedBatch,
  group: string,
  id: string,
  list: readonly string[] | null,
  deliveryCount: number,
): void => {
  if (list === null) {
    batch.deleted.push(id)
    return
  }
  const fields = fieldsToRecord(list)
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
  for (const d of deliveries) addEntry(batch, group, d.id, d.fields, d.deliveryCount)
  return batch
}

/** Entries read with `>` (each on its first delivery), as two lists: their ids and their field lists. */
export interface NewEntries {
  readonly ids: string[]
  /** `[k, v, …]` per entry; null for an entry deleted meanwhile. */
  readonly fields: (readonly string[] | null)[]
}

/**
 * XREADGROUP's reply for one stream (`[[stream, [[id, [k, v, …]], …]]]`, or null on a timeout), taken from
 * ioredis' arrays as they are: no object per entry.
 */
export const newEntriesOf = (reply: unknown): NewEntries => {
  const ids: string[] = []
  const fields: (readonly string[] | null)[] = []
  const stream = Array.isArray(reply) ? reply[0] : undefined
  const entries: unknown = Array.isArray(stream) ? stream[1] : undefined
  if (!Array.isArray(entries)) return { ids, fields }
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue
    const id: unknown = entry[0]
    const list: unknown = entry[1]
    if (typeof id !== 'string') continue
    ids.push(id)
    fields.push(Array.isArray(list) ? (isStrings(list) ? list : list.map(String)) : null)
  }
  return { ids, fields }
}

/** Decodes entries read with `>`; the batch shares their id list. */
export const decodeNewEntries = (group: string, entries: NewEntries): DecodedBatch => {
  const { ids, fields } = entries
  const batch = emptyBatch(ids)
  for (let i = 0; i < ids.length; i++) addEntry(batch, group, ids[i] as string, fields[i] ?? null, 1)
  return batch
}
