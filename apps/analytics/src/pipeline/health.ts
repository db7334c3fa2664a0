/** Pipeline health across the four services: lag, pending and dead letters of every consumer group. */
import { CONSUMER_GROUPS } from '@flotilla/contracts'
import type { RedisClient } from '@flotilla/streams'
import { readGroupStats } from '@flotilla/streams'
import type { GroupHealth } from '../dashboard/model.ts'

/** Reads XINFO GROUPS and the dead-letter stream lengths; the four known groups always appear. */
export const readPipelineHealth = async (
  redis: RedisClient,
  stream: string,
  behindThreshold = 1000,
): Promise<GroupHealth[]> => {
  const stats = await readGroupStats({ redis, stream })
  const byName = new Map(stats.map((s) => [s.group, s]))
  const names = [
    ...CONSUMER_GROUPS,
    ...stats.map((s) => s.group).filter((g) => !(CONSUMER_GROUPS as readonly string[]).includes(g)),
  ]
  return names.map((group): GroupHealth => {
    const s = byName.get(group)
    if (!s)
      return { group, exists: false, lag: null, pending: 0, consumers: 0, deadLetters: 0, status: 'missing' }
    const status =
      s.deadLetters > 0
        ? 'dead-letters'
        : (s.lag ?? 0) > behindThreshold || s.pending > behindThreshold
          ? 'behind'
          : 'ok'
    return {
      group,
      exists: true,
      lag: s.lag,
      pending: s.pending,
      consumers: s.consumers,
      deadLetters: s.deadLetters,
      status,
    }
  })
}
