import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { waitFor } from '@flotilla/streams/testing'
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { type Database, openDatabase } from '../db/client.ts'
import { createRollups } from '../rollups/service.ts'
import { createTestApp, createTestStores, sampleEvent, TEST_REDIS_URL, type TestStores } from '../testing.ts'
import { createLock } from './lock.ts'
import { createScheduler, type Job } from './scheduler.ts'

let s: TestStores
let second: { redis: Redis; database: Database }
beforeEach(async () => {
  s = await createTestStores()
  // A second analytics instance: its own Redis and database connections, the same Redis and file.
  second = { redis: new Redis(TEST_REDIS_URL), database: await openDatabase({ url: s.dbUrl }) }
})
afterEach(async () => {
  second.redis.disconnect()
  second.database.close()
  await s.close()
})

const sleep = (ms: number) => Bun.sleep(ms)

describe('lock', () => {
  it('lets one holder in, and only that holder extend or release it', async () => {
    const a = createLock(s.redis, `${s.prefix}:lock:x`, 5000)
    const b = createLock(second.redis, `${s.prefix}:lock:x`, 5000)
    const token = await a.acquire()
    expect(token).toBeString()
    expect(await b.acquire()).toBeUndefined()
    expect(await b.release('not-the-token')).toBe(false)
    expect(await b.extend('not-the-token')).toBe(false)
    expect(await a.extend(token as string)).toBe(true)
    expect(await a.release(token as string)).toBe(true)
    expect(await b.acquire()).toBeString()
  })

  it('does not free a lock that expired and was taken by another instance', async () => {
    const a = createLock(s.redis, `${s.prefix}:lock:y`, 50)
    const b = createLock(second.redis, `${s.prefix}:lock:y`, 5000)
    const stale = (await a.acquire()) as string
    await sleep(80)
    const fresh = await b.acquire()
    expect(fresh).toBeString()
    expect(await a.release(stale)).toBe(false)
    expect(await s.redis.get(`${s.prefix}:lock:y`)).toBe(fresh as string)
  })
})

describe('scheduler', () => {
  it('runs each job once per slot when two instances tick at the same time', async () => {
    const runs: string[] = []
    const jobsFor = (instance: string, db: Database): Job[] => {
      const rollups = createRollups({
        db: db.db,
        minuteRetentionMs: 7 * 86_400_000,
        hourRetentionMs: 90 * 86_400_000,
        processedRetentionMs: 30 * 86_400_000,
      })
      return [
        {
          name: 'rollup',
          intervalMs: 1000,
          run: async () => {
            runs.push(`rollup@${instance}`)
            return rollups.rollupDirty()
          },
        },
        {
          name: 'retention',
          intervalMs: 1000,
          run: async () => {
            runs.push(`retention@${instance}`)
            return rollups.retain()
          },
        },
        {
          name: 'slow',
          intervalMs: 1000,
          run: async () => {
            runs.push(`slow@${instance}`)
            await sleep(150)
          },
        },
      ]
    }
    await s.ingest.ingestBatch([sampleEvent('order.placed', new Date())])
    const one = createScheduler({
      redis: s.redis,
      db: s.database.db,
      prefix: s.prefix,
      instance: 'one',
      jobs: jobsFor('one', s.database),
    })
    const two = createScheduler({
      redis: second.redis,
      db: second.database.db,
      prefix: s.prefix,
      instance: 'two',
      jobs: jobsFor('two', second.database),
    })
    const slots = [1_000_000, 1_001_000, 1_002_000, 1_003_000]
    for (const now of slots) {
      // The second instance ticks a little later within the same slot, as real timers would.
      const outcomes = await Promise.all([one.tick(now), sleep(20).then(() => two.tick(now + 500))])
      for (const job of ['rollup', 'retention', 'slow']) {
        const ran = outcomes.flat().filter((o) => o.job === job && o.status === 'ran')
        expect(ran).toHaveLength(1)
      }
    }
    for (const job of ['rollup', 'retention', 'slow']) {
      expect(runs.filter((r) => r.startsWith(`${job}@`))).toHaveLength(slots.length)
    }
    const recorded = await s.database.db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM job_runs`)
    expect(recorded[0]?.n).toBe(slots.length * 3)
    expect((await s.database.db.all(sql`SELECT 1 FROM dirty_buckets`)).length).toBe(0)
    await Promise.all([one.close(), two.close(), one.close()])
  })

  it('records a failing job and runs it again in the next slot', async () => {
    let calls = 0
    const job: Job = {
      name: 'flaky',
      intervalMs: 1000,
      run: async () => {
        calls++
        if (calls === 1) throw new Error('boom')
        return 'ok'
      },
    }
    const one = createScheduler({
      redis: s.redis,
      db: s.database.db,
      prefix: s.prefix,
      instance: 'one',
      jobs: [job],
    })
    expect((await one.tick(5000))[0]).toMatchObject({ status: 'failed', error: 'boom' })
    expect((await one.tick(5500))[0]).toMatchObject({ status: 'done' })
    expect((await one.tick(6000))[0]).toMatchObject({ status: 'ran', result: 'ok' })
    expect(await s.redis.exists(`${s.prefix}:lock:flaky`)).toBe(0)
  })
})

describe('two analytics instances', () => {
  it('run each production job once per slot with real timers', async () => {
    const one = await createTestApp({
      env: {
        ROLLUP_INTERVAL_MS: '400',
        UNIQUES_PERSIST_INTERVAL_MS: '400',
        RETENTION_INTERVAL_MS: '400',
        JOBS_TICK_MS: '100',
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
      const runsOf = () =>
        one.deps.database.db.all<{ job: string; slot: number; instance: string }>(
          sql`SELECT job, slot, instance FROM job_runs ORDER BY job, slot`,
        )
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
