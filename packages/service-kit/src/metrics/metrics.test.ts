import { afterAll, describe, expect, it } from 'bun:test'
import { createEvent } from '@flotilla/contracts'
import { createConsumer, createPublisher, createRedisConnection, RetryLaterError } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import { Redis } from 'ioredis'
import { parseExposition, type Sample } from './exposition.ts'
import { createMetrics } from './metrics.ts'

const REDIS_URL = TEST_REDIS_URL
const redis = new Redis(REDIS_URL)
const streams: string[] = []
afterAll(async () => {
  for (const stream of streams) await cleanupStream(redis, stream)
  redis.disconnect()
})

const scrape = async (metrics: ReturnType<typeof createMetrics>) =>
  parseExposition(await metrics.text()).samples
const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0)

describe('createMetrics', () => {
  it('counts processed and retried events and observes handler duration from a real consumer', async () => {
    const metrics = createMetrics('audit')
    const stream = uniqueStreamName('kit-metrics')
    streams.push(stream)
    const producer = createRedisConnection(REDIS_URL, 'producer')
    const publisher = createPublisher({ redis: producer, stream })
    const source = 'monolith'
    await publisher.publishBatch([
      createEvent('user.registered', { userId: 'u1' }, { source }),
      createEvent('user.registered', { userId: 'u2' }, { source }),
      createEvent('user.registered', { userId: 'u3' }, { source }),
    ])
    let failedOnce = false
    const consumer = createConsumer({
      redisUrl: REDIS_URL,
      stream,
      group: 'audit',
      blockMs: 100,
      backoff: { baseMs: 10, maxMs: 20 },
      claimIdleMs: 50,
      hooks: metrics.streamHooks('audit'),
      handler: {
        handle: ({ event }) => {
          if (event.type === 'user.registered' && event.payload.userId === 'u2' && !failedOnce) {
            failedOnce = true
            throw new RetryLaterError('not yet', { delayMs: 10 })
          }
        },
      },
    })
    await consumer.start()
    try {
      await waitFor(async () => sum(await scrape(metrics), 'stream_events_processed_total') === 3, {
        message: 'three processed events',
      })
    } finally {
      await consumer.close()
      producer.disconnect()
    }
    const samples = await scrape(metrics)
    expect(sum(samples, 'stream_events_processed_total', { group: 'audit', type: 'user.registered' })).toBe(3)
    expect(sum(samples, 'stream_events_failed_total', { group: 'audit' })).toBe(1)
    expect(sum(samples, 'stream_events_retried_total', { group: 'audit' })).toBe(1)
    expect(sum(samples, 'stream_handler_duration_seconds_count', { group: 'audit', outcome: 'ok' })).toBe(3)
    expect(sum(samples, 'stream_handler_duration_seconds_count', { group: 'audit', outcome: 'error' })).toBe(
      1,
    )
  })

  it('reads group gauges once per scrape and survives a failing reader', async () => {
    const metrics = createMetrics('analytics')
    let reads = 0
    metrics.trackGroups(async () => {
      reads++
      return [{ group: 'analytics', lag: 7, pending: 2, deadLetters: 1 }]
    })
    const samples = await scrape(metrics)
    expect(reads).toBe(1)
    expect(samples.find((s) => s.name === 'stream_group_lag')).toMatchObject({
      labels: { group: 'analytics' },
      value: 7,
    })
    expect(sum(samples, 'stream_group_pending')).toBe(2)
    expect(sum(samples, 'stream_dead_letters')).toBe(1)

    metrics.trackGroups(async () => {
      throw new Error('redis down')
    })
    const after = await scrape(metrics)
    expect(after.some((s) => s.name === 'stream_group_lag')).toBe(false)
    expect(after.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true)
  })

  it('keeps the heap totals but not the per-space heap gauges, which cost Bun a walk of the heap per scrape', async () => {
    const names = new Set((await scrape(createMetrics('auth'))).map((s) => s.name))
    expect(names.has('nodejs_heap_size_total_bytes')).toBe(true)
    expect(names.has('nodejs_heap_size_used_bytes')).toBe(true)
    expect([...names].filter((name) => name.startsWith('nodejs_heap_space_'))).toEqual([])
  })

  it('labels every series with the service', async () => {
    const metrics = createMetrics('auth')
    metrics.observeRequest({ method: 'GET', route: '/v1/x', status: 200, seconds: 0.01 })
    const samples = await scrape(metrics)
    expect(samples.every((s) => s.labels.service === 'auth')).toBe(true)
  })
})
