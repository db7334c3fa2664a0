import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createCustomEvent, createEvent } from '@flotilla/contracts'
import {
  closeConnection,
  createConsumer,
  createDeadLetters,
  createPublisher,
  createRedisConnection,
  NonRetryableError,
} from '@flotilla/streams'
import { cleanupStream, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { runScript } from './lib/run-script.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const stream = uniqueStreamName('ops-cli')
const redis = createRedisConnection(REDIS_URL, 'command')
const dlq = createDeadLetters({ redis, stream, group: 'audit' })

/** Runs `bun scripts/ops.ts --stream <test stream> …`, optionally answering a confirmation on stdin. */
const ops = (args: string[], answer?: string) =>
  runScript('scripts/ops.ts', ['--stream', stream, ...args], {
    env: { REDIS_URL },
    stdin: answer,
  })

beforeAll(async () => {
  // A real consumer group whose handler refuses order.placed: two dead letters, one processed event.
  const consumer = createConsumer({
    redisUrl: REDIS_URL,
    stream,
    group: 'audit',
    blockMs: 100,
    handler: {
      handle: async (message) => {
        if (message.event.type === 'order.placed') throw new NonRetryableError('order store rejected it')
      },
    },
  })
  await consumer.start()
  const publisher = createPublisher({ redis: createRedisConnection(REDIS_URL, 'producer'), stream })
  await publisher.publishBatch([
    createCustomEvent('order.placed', { orderId: 'o_1', total: 12.5 }, { source: 'monolith' }),
    createEvent('user.registered', { userId: 'u_1', email: 'u1@example.com' }, { source: 'monolith' }),
    createCustomEvent('order.placed', { orderId: 'o_2', total: 99 }, { source: 'monolith' }),
  ])
  await waitFor(async () => (await dlq.count()) === 2 && consumer.status().processed >= 1, {
    message: 'two dead letters',
  })
  await consumer.close()
  // A consumer that has read nothing, as a scaled-out machine that just joined the group would be.
  await redis.xgroup('CREATECONSUMER', stream, 'audit', 'machine-2')
})

afterAll(async () => {
  await cleanupStream(redis, stream)
  await closeConnection(redis)
})

describe('bun run ops', () => {
  it('shows each group with its lag, pending count, consumers and dead letters', async () => {
    const json = await ops(['--json', 'status'])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as {
      length: number
      groups: { group: string; deadLetters: number; pending: number; lag: number }[]
      consumers: unknown[]
    }
    expect(parsed.length).toBe(3)
    expect(parsed.groups).toEqual([
      expect.objectContaining({ group: 'audit', deadLetters: 2, pending: 0, lag: 0 }),
    ])
    expect(parsed.consumers).toEqual([
      expect.objectContaining({ group: 'audit', name: 'machine-2', pending: 0 }),
    ])
    const text = await ops(['status'])
    expect(text.stdout).toMatch(/group\s+consumers\s+lag\s+pending\s+dead letters/)
    expect(text.stdout).toMatch(/audit\s+1\s+0\s+0\s+2/)
    expect(text.stdout).toMatch(/audit\s+machine-2\s+0\s+\d+(ms|s|m \d+s)\n/)
  })

  it('watches: prints a fresh status snapshot every interval', async () => {
    const result = await ops(['watch', '--interval', '100ms', '--count', '2'])
    expect(result.code).toBe(0)
    expect(result.stdout.match(/every 100ms/g)).toHaveLength(2)
    expect(result.stdout.match(/audit\s+1\s+0\s+0\s+2/g)).toHaveLength(2)
  })

  it('lists dead letters and shows one with its error and the event as it was', async () => {
    const list = await ops(['dlq', 'list', 'audit'])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('2 dead letters for group audit')
    expect(list.stdout.match(/order\.placed/g)).toHaveLength(2)
    const [oldest] = (await dlq.list({ order: 'oldest' })).items
    const show = await ops(['dlq', 'show', 'audit', oldest!.id])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain('order store rejected it')
    expect(show.stdout).toContain('"orderId": "o_1"')
  })

  it('changes nothing when the operator does not confirm a purge', async () => {
    const [letter] = (await dlq.list()).items
    const result = await ops(['dlq', 'purge', 'audit', letter!.id], 'n\n')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('cancelled')
    expect(await dlq.count()).toBe(2)
  })

  it('replays one dead letter onto the stream for its group, then trims without touching it', async () => {
    const [letter] = (await dlq.list({ order: 'oldest' })).items
    const replay = await ops(['dlq', 'replay', 'audit', letter!.id, '--yes'])
    expect(replay.code).toBe(0)
    expect(replay.stdout).toContain('replayed 1 dead letter')
    expect(await dlq.count()).toBe(1)
    const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1)
    expect(last?.[1]).toContain('replayFor')
    // Nothing consumes now: the replayed entry is undelivered, so a trim may remove only what precedes
    // the group's last-delivered entry.
    const trim = await ops(['trim', '--retention', '1ms', '--yes'])
    expect(trim.code).toBe(0)
    expect(trim.stdout).toContain('trimmed 2 entries')
    expect((await redis.xrange(stream, '-', '+')).map(([id]) => id)).toContain(last![0])
  })

  it('purges every dead letter of a group after confirmation', async () => {
    const result = await ops(['dlq', 'purge', 'audit', '--all'], 'y\n')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('purged 1 dead letter')
    expect(await dlq.count()).toBe(0)
  })

  it('says which Redis it cannot reach, without a stack trace', async () => {
    const result = await ops(['--redis', 'redis://127.0.0.1:9', 'status'])
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toMatch(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:9: /)
  })

  it('names the groups that exist when asked about one that does not', async () => {
    const result = await ops(['dlq', 'list', 'billing'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no group "billing"')
    expect(result.stderr).toContain('groups: audit')
  })
})
