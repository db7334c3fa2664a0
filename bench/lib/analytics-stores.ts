/** One benchmark round's analytics stores: the database and the uniques beside it, as the service wires them. */
import { openDatabase } from '@flotilla/analytics'
import { createUniques } from '@flotilla/analytics/testing'
import type Redis from 'ioredis'

/** Opens (and migrates) the analytics database at `url` and its HyperLogLog uniques under the Redis `prefix`. */
export const analyticsStores = async (redis: Redis, url: string, prefix: string) => {
  const database = await openDatabase({ url })
  const uniques = createUniques({
    redis,
    db: database.db,
    prefix,
    hourTtlMs: 3_600_000,
    dayTtlMs: 86_400_000,
  })
  return { database, uniques }
}
