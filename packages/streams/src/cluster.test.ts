/**
 * The streams library on a real Redis Cluster (REDIS_CLUSTER_URL): the hash slot function against the server's,
 * every multi-key script (acks, dead-letter moves, replays, consumer removal) and pipeline in the stream's slot,
 * a consumer's full cycle, and the test helpers that must see every master.
 */
import { afterAll, afterEach, describe, expect, it } from 'bun:test'
import { deadLetterStreamKey } from '@flotilla/contracts'
import type { Cluster } from 'ioredis'
import { hashSlot, mastersOf, nodeFor, pipelineBySlot } from './cluster.ts'
import { closeConnection, createRedisConnection, isCluster } from './connection.ts'
import { createDeadLetters } from './dead-letters.ts'
import { NonRetryableError } from './errors.ts'
import { readGroupStats } from './group-stats.ts'
import { createPublisher } from './publisher.ts'
import { consumerPool, userRegistered } from './test-support.ts'
import {
  cleanupStream,
  clusterSkipReason,
  deleteKeysMatching,
  TEST_REDIS_CLUSTER_URL,
  uniqueStreamName,
  waitFor,
} from './testing.ts'
import { trimStream } from './trim.ts'

const onCluster = () => {
  const target = { url: TEST_REDIS_CLUSTER_URL as string, cluster: true }
  const redis = createRedisConnection(target, 'command') as Cluster
  const producer = createRedisConnection(target, 'producer')
  const pool = consumerPool()
  const streams: string[] = []
  const newStream = (prefix: string) => {
    const stream = uniqueStreamName(prefix)
    streams.push(stream)
    return stream
  }
  afterEach(async () => {
    await pool.closeAll()
    for (const stream of streams.splice(0)) await cleanupStream(redis, stream)
  })
  afterAll(async () => {
    await closeConnection(producer)
    await closeConnection(redis)
  })

  it('opens an ioredis Cluster that knows three masters', async () => {
    expect(isCluster(redis)).toBe(true)
    await waitFor(() => redis.status === 'ready', { timeoutMs: 10_000, message: 'cluster ready' })
    expect(mastersOf(redis)).toHaveLength(3)
  })

  it('computes the hash slot the servers compute, hash tags included', async () => {
    const keys = [
      'events',
      '{events}:dlq:audit',
      'a{b}c',
      'x{}y',
      '{}',
      '{a',
      'prefix:{u:t-1}:hll:d:1:x',
      'é{ü}',
    ]
    for (const key of keys) expect(hashSlot(key)).toBe(Number(await redis.cluster('KEYSLOT', key)))
    expect(hashSlot('{events}:alive:g:c')).toBe(hashSlot('events'))
  })

  it('finds the node serving a key', async () => {
    const stream = newStream('cluster-node')
    await redis.xadd(stream, '*', 'k', 'v')
    const node = nodeFor(redis, stream)
    expect(node).toBeDefined()
    // The node answers for the key without a MOVED redirection.
    expect(await node?.xlen(stream)).toBe(1)
  })

  it('runs pipelines of keys in many slots, one pipeline per slot', async () => {
    const prefix = uniqueStreamName('cluster-pipe')
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:{k${i}}`)
    expect(new Set(keys.map(hashSlot)).size).toBeGreaterThan(3)
    // A plain pipeline over these keys is refused by ioredis on a cluster.
    await expect(redis.pipeline(keys.map((k) => ['set', k, '1'])).exec()).rejects.toThrow(/slot/)
    await pipelineBySlot(
      redis,
      keys.map((k, i) => ['set', k, String(i)] as const),
    )
    expect(
      await pipelineBySlot(
        redis,
        keys.map((k) => ['get', k] as const),
      ),
    ).toEqual(keys.map((_, i) => String(i)))
    await deleteKeysMatching(redis, `${prefix}:*`)
    expect(
      await pipelineBySlot(
        redis,
        keys.map((k) => ['exists', k] as const),
      ),
    ).toEqual(keys.map(() => 0))
  })

  it('publishes, consumes, dead-letters, replays and trims on the cluster', async () => {
    const stream = newStream('cluster-cycle')
    const publisher = createPublisher({ redis: producer, stream })
    const seen: string[] = []
    const poison = userRegistered('poison')
    const consumer = pool.create({
      stream,
      group: 'g',
      connectionFactory: (role) => createRedisConnection(target, role),
      handler: {
        handle(m) {
          if (m.event.id === poison.id && !m.replayOf) throw new NonRetryableError('poison')
          seen.push(m.event.id)
        },
      },
    })
    await consumer.start()
    const events = Array.from({ length: 50 }, () => userRegistered())
    for (const event of events) await publisher.publish(event)
    await publisher.publish(poison)
    await waitFor(() => seen.length >= 50 && consumer.status().deadLettered === 1, {
      timeoutMs: 20_000,
      message: 'every event handled and the poison dead-lettered',
    })
    expect(new Set(seen)).toEqual(new Set(events.map((e) => e.id)))

    // The dead-letter stream shares the stream's slot: the move was one script on one node.
    expect(hashSlot(deadLetterStreamKey(stream, 'g'))).toBe(hashSlot(stream))
    const dlq = createDeadLetters({ redis, stream, group: 'g' })
    const page = await dlq.list({ limit: 10 })
    expect(page.items).toHaveLength(1)
    expect(await dlq.replay((page.items[0] as { id: string }).id)).toBeTruthy()
    await waitFor(() => seen.includes(poison.id), { timeoutMs: 20_000, message: 'the replay handled' })
    expect(await dlq.count()).toBe(0)

    const stats = await readGroupStats({ redis, stream })
    expect(stats).toEqual([expect.objectContaining({ group: 'g', pending: 0, deadLetters: 0 })])
    await waitFor(async () => (await readGroupStats({ redis, stream }))[0]?.lag === 0, {
      timeoutMs: 10_000,
      message: 'no lag',
    })
    const trimmed = await trimStream({ redis, stream, retentionMs: 0 })
    expect(trimmed.trimmed).toBeGreaterThan(0)
    expect(consumer.status().lastError).toBeNull()
  })

  it('closes a consumer blocked in XREADGROUP on the cluster and removes it from the group (script)', async () => {
    const stream = newStream('cluster-close')
    const consumer = pool.create({
      stream,
      group: 'g',
      blockMs: 60_000,
      connectionFactory: (role) => createRedisConnection(target, role),
      handler: { handle() {} },
    })
    await consumer.start()
    await consumer.close()
    expect(consumer.status().state).toBe('closed')
    // DELETE_IDLE_CONSUMER ran in the stream's slot: the group remains, the consumer is gone.
    expect(await redis.xinfo('GROUPS', stream)).toHaveLength(1)
    expect(await redis.xinfo('CONSUMERS', stream, 'g')).toEqual([])
  })

  it('deletes matching keys on every master', async () => {
    const prefix = uniqueStreamName('cluster-delete')
    const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:{${i}}`)
    for (const key of keys) await redis.set(key, '1')
    const owners = new Set(keys.map((k) => nodeFor(redis, k)))
    expect(owners.size).toBeGreaterThan(1)
    await deleteKeysMatching(redis, `${prefix}:*`)
    for (const key of keys) expect(await redis.exists(key)).toBe(0)
  })
}

// Without a cluster: one visible skip naming the reason, never a pass.
if (clusterSkipReason) it.skip(`streams on a Redis Cluster — ${clusterSkipReason}`, () => {})
else describe('streams on a Redis Cluster', onCluster)
