import { afterAll, afterEach, beforeAll, expect, it, setDefaultTimeout } from 'bun:test'
import type { Redis } from 'ioredis'
import { createRedisConnection } from './connection.ts'
import { readGroupStats } from './group-stats.ts'
import { createPublisher } from './publisher.ts'
import { consumerPool, REDIS_URL, userRegistered } from './test-support.ts'
import { cleanupStream, uniqueStreamName, waitFor } from './testing.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(30_000)

let redis: Redis
let stream: string
const pool = consumerPool()

beforeAll(() => {
  redis = createRedisConnection(REDIS_URL, 'command')
})
afterEach(async () => {
  await pool.closeAll()
  await cleanupStream(redis, stream)
})
afterAll(() => redis.quit())

it('reports lag, pending and dead-letter length per group', async () => {
  stream = uniqueStreamName('stats')
  expect(await readGroupStats({ redis, stream })).toEqual([])
  await createPublisher({ redis, stream }).publishBatch([
    userRegistered(),
    userRegistered(),
    userRegistered(),
  ])
  await redis.xgroup('CREATE', stream, 'idle', '0')
  await redis.xgroup('CREATE', stream, 'reader', '0')
  await redis.call('XREADGROUP', 'GROUP', 'reader', 'c', 'COUNT', 2, 'STREAMS', stream, '>')
  await redis.call('XADD', stream, '*', 'type', 'user.registered', 'event', 'not json')
  const consumer = pool.create({ stream, group: 'dead', handler: { handle() {} } })
  await consumer.start()
  await waitFor(() => consumer.status().deadLettered === 1 && consumer.status().processed === 3)

  const stats = await readGroupStats({ redis, stream })
  const byGroup = Object.fromEntries(stats.map((s) => [s.group, s]))
  expect(byGroup.idle).toMatchObject({ lag: 4, pending: 0, deadLetters: 0 })
  expect(byGroup.reader).toMatchObject({ lag: 2, pending: 2, deadLetters: 0, consumers: 1 })
  expect(byGroup.dead).toMatchObject({ lag: 0, pending: 0, deadLetters: 1 })
})
