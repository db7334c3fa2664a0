import { afterAll, expect, it } from 'bun:test'
import Redis from 'ioredis'
import { startPeriodicJob } from './scheduler.ts'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const lockKey = `test:audit:${crypto.randomUUID()}:lock`
const logger = { info: () => undefined, error: () => undefined }
afterAll(async () => {
  await redis.del(lockKey)
  redis.disconnect()
})

it('runs a job on one instance at a time and waits for a running job on stop', async () => {
  let runs = 0
  let finished = 0
  const job = () => ({
    name: 'test',
    everyMs: 0,
    redis,
    lockKey,
    logger,
    run: async () => {
      runs += 1
      await Bun.sleep(50)
      finished += 1
      return runs
    },
  })
  const a = startPeriodicJob(job())
  const b = startPeriodicJob(job())
  const ran = await Promise.all([a.runNow(), b.runNow()])
  expect(ran.filter(Boolean)).toHaveLength(1)
  expect(runs).toBe(1)

  const pending = a.runNow()
  await a.stop()
  expect(finished).toBe(2)
  expect(await pending).toBe(true)
  await b.stop()
})

it('keeps ticking after a failed run and reports it', async () => {
  const errors: unknown[] = []
  let calls = 0
  const job = startPeriodicJob({
    name: 'flaky',
    everyMs: 20,
    redis,
    lockKey: `${lockKey}:flaky`,
    logger: { info: () => undefined, error: (obj) => errors.push(obj) },
    run: async () => {
      calls += 1
      if (calls === 1) throw new Error('boom')
      return calls
    },
  })
  while (calls < 3) await Bun.sleep(10)
  await job.stop()
  expect(errors).toHaveLength(1)
})
