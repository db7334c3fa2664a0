import { afterAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AnyEvent } from '@flotilla/contracts'
import { useTestProcesses } from '@flotilla/service-kit/testing'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { sampleEvent } from '../records/sample.ts'
import { createLibsqlStore } from '../store/libsql/store.ts'
import { verifyChain } from '../verify/service.ts'
import { AUDIT_GROUP } from './consumer.ts'

const TOTAL = 10_000
const TENANTS = ['t-alpha', 't-beta', 't-gamma', 't-delta', undefined]
const redis = createRedisConnection(TEST_REDIS_URL, 'command')
const stream = uniqueStreamName('audit-crash')
const dir = await mkdtemp(join(tmpdir(), 'audit-crash-'))
const dbUrl = `file:${join(dir, 'audit.db')}`
const processes = useTestProcesses()

afterAll(async () => {
  await cleanupStream(redis, stream)
  redis.disconnect()
  await rm(dir, { recursive: true, force: true })
})

const spawnConsumer = (consumerName: string) => {
  const options = { dbUrl, redisUrl: TEST_REDIS_URL, stream, consumerName, batchSize: 100, claimIdleMs: 1500 }
  return processes.spawn(join(import.meta.dir, 'fixtures', 'consumer-process.ts'), [JSON.stringify(options)])
}

it('records 10,000 events exactly once in gapless, verifiable chains when a consumer is killed mid-way', async () => {
  const events: AnyEvent[] = Array.from({ length: TOTAL }, (_, i) =>
    sampleEvent(TENANTS[i % TENANTS.length], i),
  )
  // Producers may append an event twice (a retried XADD): 300 of them go on the stream again.
  const stream_entries = [...events, ...events.slice(0, 300)]
  const publisher = createPublisher({ redis: createRedisConnection(TEST_REDIS_URL, 'producer'), stream })
  for (let i = 0; i < stream_entries.length; i += 1000)
    await publisher.publishBatch(stream_entries.slice(i, i + 1000))

  const store = await createLibsqlStore({ url: dbUrl })
  const recorded = async () =>
    Number((await store.client.execute('SELECT count(*) AS n FROM audit_records')).rows[0]?.n)

  const first = spawnConsumer('audit-crash-a')
  await waitFor(async () => (await recorded()) >= 2500, {
    timeoutMs: 60_000,
    message: 'first consumer progress',
  })
  first.kill('SIGKILL') // mid-stream: entries it read but did not ack stay pending under its name
  await first.exited
  const atKill = await recorded()
  expect(atKill).toBeLessThan(TOTAL)
  const orphaned = (await redis.xpending(stream, AUDIT_GROUP, '-', '+', 1000, 'audit-crash-a')) as unknown[]

  // Two consumers race to finish, one of them claiming what the dead one left pending.
  const second = spawnConsumer('audit-crash-b')
  const third = spawnConsumer('audit-crash-c')
  await waitFor(
    async () => {
      const pending = (await redis.xpending(stream, AUDIT_GROUP)) as [number, ...unknown[]]
      return (await recorded()) === TOTAL && pending[0] === 0
    },
    { timeoutMs: 90_000, intervalMs: 200, message: 'all events recorded and acked' },
  )
  second.kill('SIGTERM')
  third.kill('SIGTERM')
  await Promise.all([second.exited, third.exited])

  const distinct = Number(
    (await store.client.execute('SELECT count(DISTINCT event_id) AS n FROM audit_records')).rows[0]?.n,
  )
  expect(distinct).toBe(TOTAL)
  expect(await recorded()).toBe(TOTAL)
  const chains = await store.chains()
  expect(chains.sort()).toEqual(['global', 't-alpha', 't-beta', 't-delta', 't-gamma'])
  for (const chain of chains) {
    const gaps = await store.client.execute({
      sql: 'SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM audit_records WHERE chain = ?',
      args: [chain],
    })
    const row = gaps.rows[0] as unknown as { n: number; lo: number; hi: number }
    expect([row.n, row.lo, row.hi]).toEqual([TOTAL / 5, 1, TOTAL / 5])
    const result = await verifyChain({ store }, chain)
    expect(result).toMatchObject({ ok: true, checked: TOTAL / 5 })
  }
  console.log(
    `crash test: first consumer recorded ${atKill} of ${TOTAL} and left ${orphaned.length} entries pending when killed`,
  )
  await store.close()
}, 180_000)
