/** Per-group numbers for metrics and `/ready`: lag, pending, dead-letter length. */
import { deadLetterStreamKey } from '@flotilla/contracts'
import type { RedisClient } from './connection.ts'
import { pairsToRecord } from './consumer/replies.ts'

export interface GroupStats {
  readonly group: string
  /** Entries not yet delivered to the group (XINFO GROUPS `lag`); null when Redis cannot tell. */
  readonly lag: number | null
  /** Delivered, not yet acked. */
  readonly pending: number
  readonly consumers: number
  readonly lastDeliveredId: string
  readonly deadLetters: number
}

/** XINFO GROUPS as one record per group (an empty list when the stream does not exist yet). */
export const readGroupInfo = async (
  redis: RedisClient,
  stream: string,
): Promise<Record<string, unknown>[]> => {
  let reply: unknown
  try {
    reply = await redis.xinfo('GROUPS', stream)
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return []
    throw error
  }
  return (Array.isArray(reply) ? reply : []).map(pairsToRecord)
}

/** Reads stats of every group of a stream (an empty list when the stream does not exist yet). */
export const readGroupStats = async ({
  redis,
  stream,
}: {
  redis: RedisClient
  stream: string
}): Promise<GroupStats[]> => {
  const groups = await readGroupInfo(redis, stream)
  if (groups.length === 0) return []
  const pipeline = redis.pipeline()
  for (const g of groups) pipeline.xlen(deadLetterStreamKey(stream, String(g.name)))
  const lengths = (await pipeline.exec()) ?? []
  return groups.map((g, i) => ({
    group: String(g.name),
    lag: g.lag === null || g.lag === undefined ? null : Number(g.lag),
    pending: Number(g.pending ?? 0),
    consumers: Number(g.consumers ?? 0),
    lastDeliveredId: String(g['last-delivered-id'] ?? '0-0'),
    deadLetters: Number(lengths[i]?.[1] ?? 0),
  }))
}
