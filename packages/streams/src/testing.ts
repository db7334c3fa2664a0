/** Test helpers (`@flotilla/streams/testing`): unique streams, cleanup, polling. */
import { randomBytes } from 'node:crypto'
import { deadLetterStreamKey } from '@flotilla/contracts'
import type { Redis } from 'ioredis'
import { pairsToRecord } from './consumer/replies.ts'

/** A stream name no other test uses: `test:<prefix>:<random>` (no braces, so hash tags stay intact). */
export const uniqueStreamName = (prefix = 'stream'): string =>
  `test:${prefix}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`

// Glob-escape for SCAN MATCH.
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&')

/**
 * Deletes a stream and every key hash-tagged with it: its dead-letter streams (`{stream}:dlq:*`) and consumer
 * heartbeats (`{stream}:alive:*`). Never touches other keys.
 */
export const cleanupStream = async (redis: Redis, stream: string): Promise<void> => {
  const keys = new Set([stream])
  const groups = await redis.xinfo('GROUPS', stream).catch(() => [])
  for (const g of Array.isArray(groups) ? groups : [])
    keys.add(deadLetterStreamKey(stream, String(pairsToRecord(g).name)))
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${escapeGlob(`{${stream}}:`)}*`, 'COUNT', 1000)
    cursor = next
    for (const key of found) keys.add(key)
  } while (cursor !== '0')
  await redis.del(...keys)
}

/** Deletes every key matching a SCAN pattern (a test's own key prefix) — never FLUSHDB. */
export const deleteKeysMatching = async (redis: Redis, pattern: string): Promise<void> => {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}

/** The name `docs/foundation-api.md` uses for `cleanupStream`. */
export const cleanupStreamKeys = cleanupStream

/** Polls `predicate` until it returns something truthy; rejects after `timeoutMs` with `message`. */
export const waitFor = async <T>(
  predicate: () => T | Promise<T>,
  {
    timeoutMs = 5000,
    intervalMs = 20,
    message = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
