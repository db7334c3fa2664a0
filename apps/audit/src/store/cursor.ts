/** Opaque pagination cursors: base64url of a versioned keyset position. */
import type { PageKey } from './types.ts'

const VERSION = 1

/** Encodes a keyset position; clients treat the result as an opaque string. */
export const encodeCursor = (key: PageKey): string =>
  Buffer.from(JSON.stringify([VERSION, key.occurredMs, key.eventId])).toString('base64url')

/** Decodes a cursor, or returns null when it is not one we issued (the caller answers 400). */
export const decodeCursor = (cursor: string): PageKey | null => {
  if (cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (!Array.isArray(value) || value.length !== 3) return null
    const [version, occurredMs, eventId] = value as unknown[]
    if (version !== VERSION || !Number.isSafeInteger(occurredMs) || typeof eventId !== 'string') return null
    if (eventId.length === 0 || eventId.length > 200) return null
    return { occurredMs: occurredMs as number, eventId }
  } catch {
    return null
  }
}
