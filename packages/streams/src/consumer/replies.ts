/** Parsing the stream replies ioredis hands back (nested arrays) into typed records. */

/** A stream entry as read or claimed; `fields` is null when the entry was deleted (trimmed) meanwhile. */
export interface RawEntry {
  readonly id: string
  readonly fields: readonly string[] | null
}

/** A raw entry and how many times it has been delivered, this time included. */
export interface Delivery extends RawEntry {
  readonly deliveryCount: number
}

/** One row of XPENDING's extended form. */
export interface PendingEntry {
  readonly id: string
  readonly consumer: string
  readonly idleMs: number
  readonly deliveryCount: number
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

const isStrings = (list: readonly unknown[]): list is string[] => {
  for (const value of list) if (typeof value !== 'string') return false
  return true
}

/** A reply's field list as strings: ioredis already gives strings, which are kept as they are (no copy). */
const fieldsOf = (fields: unknown): string[] | null =>
  Array.isArray(fields) ? (isStrings(fields) ? fields : fields.map(String)) : null

/** `[[id, [k, v, …] | null], …]` (XRANGE, XCLAIM, one stream of XREADGROUP). */
export const parseEntries = (list: unknown): RawEntry[] => {
  const out: RawEntry[] = []
  for (const item of asArray(list)) {
    const [id, fields] = asArray(item)
    if (typeof id === 'string') out.push({ id, fields: fieldsOf(fields) })
  }
  return out
}

/** XREADGROUP's `[[stream, entries]]` (or null on timeout) for a single stream. */
export const parseReadReply = (reply: unknown): RawEntry[] => {
  const first = asArray(reply)[0]
  return parseEntries(asArray(first)[1])
}

/** XPENDING's extended form: `[[id, consumer, idle, count], …]`. */
export const parsePending = (reply: unknown): PendingEntry[] =>
  asArray(reply).flatMap((row) => {
    const [id, consumer, idle, count] = asArray(row)
    if (typeof id !== 'string' || typeof consumer !== 'string') return []
    return [{ id, consumer, idleMs: Number(idle), deliveryCount: Number(count) }]
  })

/** `[k, v, k, v]` → a record without a prototype. */
export const fieldsToRecord = (fields: readonly string[]): Record<string, string> => {
  const record: Record<string, string> = Object.create(null)
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string
  return record
}

/** XINFO-style flat `[k, v, k, v]` replies → a record of unknown values. */
export const pairsToRecord = (pairs: unknown): Record<string, unknown> => {
  const list = asArray(pairs)
  const record: Record<string, unknown> = Object.create(null)
  for (let i = 0; i + 1 < list.length; i += 2) record[String(list[i])] = list[i + 1]
  return record
}
