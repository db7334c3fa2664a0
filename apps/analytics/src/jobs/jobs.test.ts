import { describe, expect, it } from 'bun:test'
import { waitFor } from '@flotilla/streams/testing'
import { sql } from 'drizzle-orm'
import { createTestApp, sampleEvent } from '../testing.ts'

// The scheduler itself (lock, one run per slot, failures) is tested in the kit; here, analytics' own jobs
// run through the runner on two instances that share a database file and a Redis prefix.
describe('two analytics instances', () => {
  it('run each production job once per slot with real timers', async () => {
    const one = await createTestApp({
      env: {
        ANALYTICS_ROLLUP_INTERVAL_MS: '400',
        ANALYTICS_UNIQUES_PERSIST_INTERVAL_MS: '400',
        ANALYTICS_RETENTION_INTERVAL_MS: '400',
        ANALYTICS_JOBS_TICK_MS: '100',
      },
    })
    // The second instance shares the first one's database file, stream and Redis prefix.
    const two = await createTestApp({
      env: { ...one.env, DATA_DIR: one.env.DATA_DIR as string },
    })
    try {
      await one.deps.ingest.ingestBatch([sampleEvent('order.placed', new Date(), { actor: 'u1' })])
      one.deps.scheduler.start()
      two.deps.scheduler.start()
      // Each slot's claim key holds the instance that ran it.
      const runsOf = async () => {
        const keys = await one.redis.keys(`${one.prefix}:jobs:*:slot:*`)
        const owners = keys.length > 0 ? await one.redis.mget(...keys) : []
        return keys.map((key, i) => ({ job: key.split(':jobs:')[1]?.split(':')[0], instance: owners[i] }))
      }
      // Wait (no timing assertion) until each job ran a few slots and both instances took part.
      await waitFor(
        async () => {
          const runs = await runsOf()
          const perJob = ['rollup', 'uniques-persist', 'retention'].map(
            (j) => runs.filter((r) => r.job === j).length,
          )
          return Math.min(...perJob) >= 3 && new Set(runs.map((r) => r.instance)).size === 2
        },
        { timeoutMs: 20_000, intervalMs: 100, message: 'three slots of each job, run by both instances' },
      )
      await Promise.all([one.deps.scheduler.close(), two.deps.scheduler.close()])
      expect((await one.deps.database.db.all(sql`SELECT 1 FROM dirty_buckets`)).length).toBe(0)
      // Both ticking in the same slot: each job reports "ran" on exactly one of them.
      const at = Date.now() + 60_000
      const outcomes = (await Promise.all([one.deps.scheduler.tick(at), two.deps.scheduler.tick(at)])).flat()
      for (const job of ['rollup', 'uniques-persist', 'retention']) {
        expect(outcomes.filter((o) => o.job === job && o.status === 'ran')).toHaveLength(1)
      }
    } finally {
      await two.close()
      await one.close()
    }
  }, 30_000)
})
