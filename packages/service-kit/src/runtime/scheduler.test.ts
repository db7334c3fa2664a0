import { afterAll, describe, expect, it } from 'bun:test'
import { deleteKeysMatching } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import { createScheduler, type Job } from './scheduler.ts'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const prefix = `test:kit-jobs:${crypto.randomUUID()}:`
afterAll(async () => {
  await deleteKeysMatching(redis, `${prefix}*`)
  redis.disconnect()
})

const scheduler = (jobs: Job[], instance: string, keyPrefix = prefix) =>
  createScheduler({ redis, keyPrefix, instance, jobs })

/** A job due every second (slot n starts at n × 1000 ms of the ticks' clock). */
const everySecond = (name: string, run: Job['run'], options: Pick<Job, 'lockTtlMs'> = {}): Job => ({
  name,
  everyMs: 1000,
  ...options,
  run,
})

describe('job scheduler', () => {
  it('runs a slot on one instance only, even when two tick the same slot at once', async () => {
    let inside = 0
    let maxInside = 0
    let runs = 0
    const job = everySecond('once', async () => {
      inside += 1
      runs += 1
      maxInside = Math.max(maxInside, inside)
      await Bun.sleep(30)
      inside -= 1
      return 'ok'
    })
    const [a, b] = [scheduler([job], 'a'), scheduler([job], 'b')]
    const outcomes = (await Promise.all([a.tick(5000), b.tick(5400)])).flat()
    expect(outcomes.map((o) => o.status).sort()).toEqual(['locked', 'ran'])
    expect(maxInside).toBe(1)
    // The lock is free again, but the slot is taken: the other instance does not run it a second time.
    expect((await b.tick(5900))[0]).toMatchObject({ status: 'done', slot: 5 })
    expect(runs).toBe(1)
    expect((await b.tick(6000))[0]).toMatchObject({ status: 'ran', slot: 6, result: 'ok' })
  })

  it('reports a failed run, does not rerun that slot, and runs the next one', async () => {
    let calls = 0
    const job = everySecond('flaky', async () => {
      calls += 1
      if (calls === 1) throw new Error('boom')
      return 'ok'
    })
    const one = scheduler([job], 'one')
    expect((await one.tick(5000))[0]).toMatchObject({ status: 'failed', error: 'boom' })
    expect((await one.tick(5500))[0]).toMatchObject({ status: 'done' })
    expect((await one.tick(6000))[0]).toMatchObject({ status: 'ran', result: 'ok' })
    expect(one.status()).toEqual([{ job: 'flaky', slot: 6, status: 'ran', result: 'ok' }])
  })

  it('never frees or extends a lock another instance holds', async () => {
    const lockKey = `${prefix}jobs:held:lock`
    await redis.set(lockKey, 'someone-else', 'PX', 5000)
    const outcome = await scheduler([everySecond('held', async () => 'ran')], 'c').tick(7000)
    expect(outcome[0]).toMatchObject({ status: 'locked' })
    expect(await redis.get(lockKey)).toBe('someone-else')
  })

  it('keeps the lock while a run outlives its ttl, and frees it afterwards', async () => {
    const lockKey = `${prefix}jobs:slow:lock`
    const seen: (string | null)[] = []
    const job = everySecond(
      'slow',
      async () => {
        // Wait past two ttls on a condition (the lock is still there after them), not on a fixed sleep alone.
        const started = Date.now()
        while (Date.now() - started < 400) {
          seen.push(await redis.get(lockKey))
          await Bun.sleep(50)
        }
        return 'done'
      },
      { lockTtlMs: 150 },
    )
    expect((await scheduler([job], 'd').tick(9000))[0]).toMatchObject({ status: 'ran' })
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((value) => typeof value === 'string')).toBe(true)
    expect(await redis.exists(lockKey)).toBe(0)
  })

  it('ticks on its own once started, and close waits for a running tick (safe to call twice)', async () => {
    let finished = 0
    const job: Job = {
      name: 'ticking',
      everyMs: 20,
      run: async () => {
        await Bun.sleep(30)
        finished += 1
        return finished
      },
    }
    const s = createScheduler({ redis, keyPrefix: `${prefix}t:`, instance: 'e', jobs: [job], tickMs: 10 })
    s.start()
    while (finished < 2) await Bun.sleep(10)
    await Promise.all([s.close(), s.close()])
    const after = finished
    await Bun.sleep(60)
    expect(finished).toBe(after)
  })
})
