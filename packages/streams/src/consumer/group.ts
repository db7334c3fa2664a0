/** Consumer-group bookkeeping: create (idempotently), own pending counts. */
import type { RedisClient } from '../connection.ts'
import { type PendingEntry, parsePending } from './replies.ts'

/**
 * Creates the group (and the stream, MKSTREAM) from `startId`. Resolves true when it was created, false
 * when it already existed (BUSYGROUP).
 */
export const ensureGroup = async (
  redis: RedisClient,
  stream: string,
  group: string,
  startId: string,
): Promise<boolean> => {
  try {
    await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM')
    return true
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false
    throw error
  }
}

/** Pending rows (extended XPENDING) between two ids, optionally of one consumer and idle at least `minIdleMs`. */
export const readPending = async (
  redis: RedisClient,
  stream: string,
  group: string,
  range: { start: string; end: string; count: number; consumer?: string; minIdleMs?: number },
): Promise<PendingEntry[]> => {
  const idle = range.minIdleMs === undefined ? [] : ['IDLE', range.minIdleMs]
  const consumer = range.consumer === undefined ? [] : [range.consumer]
  const reply = await redis.call(
    'XPENDING',
    stream,
    group,
    ...idle,
    range.start,
    range.end,
    range.count,
    ...consumer,
  )
  return parsePending(reply)
}
