import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { createDeadLetters } from '../dead-letters.ts'
import { NonRetryableError, RetryLaterError } from '../errors.ts'
import { createPublisher } from '../publisher.ts'
import { useRedisStreams, userRegistered } from '../test-support.ts'
import { waitFor } from '../testing.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(30_000)

const { redis, pool, newStream, pendingOf, consumeOne } = useRedisStreams()

describe('dead letters', () => {
  it('moves a poison entry to the dead-letter stream after maxDeliveries, with its delivery count and error', async () => {
    const deliveries: number[] = []
    const hookCalls: string[] = []
    const record = (name: string) => () => void hookCalls.push(name)
    const { stream, event, id, consumer } = await consumeOne('poison', {
      maxDeliveries: 4,
      hooks: {
        onFailed: record('failed'),
        onRetried: record('retried'),
        onDeadLettered: record('deadLettered'),
        onHandlerDuration: record('duration'),
        onProcessed: record('processed'),
      },
      handler: {
        handle(m) {
          deliveries.push(m.deliveryCount)
          throw new Error('handler exploded')
        },
      },
    })
    await consumer.start()

    const dlq = createDeadLetters({ redis, stream, group: 'g' })
    await waitFor(async () => (await dlq.count()) === 1, { message: 'a dead letter', timeoutMs: 10_000 })
    expect(deliveries).toEqual([1, 2, 3, 4])
    const [letter] = (await dlq.list()).items
    expect(letter).toMatchObject({
      originalId: id,
      originalStream: stream,
      group: 'g',
      type: 'user.registered',
      event: JSON.stringify(event),
      deliveries: 4,
      error: { code: 'Error', message: 'handler exploded' },
    })
    expect(Number.isNaN(Date.parse(letter?.failedAt ?? ''))).toBe(false)
    expect(await pendingOf(stream, 'g')).toBe(0)
    expect(consumer.status()).toMatchObject({ failed: 4, retried: 3, deadLettered: 1, processed: 0 })
    const tally = (name: string) => hookCalls.filter((n) => n === name).length
    expect([
      tally('failed'),
      tally('retried'),
      tally('deadLettered'),
      tally('duration'),
      tally('processed'),
    ]).toEqual([4, 3, 1, 4, 0])
  })

  it('dead-letters contract violations at once, with the reason, and never shows them to the handler', async () => {
    const stream = newStream('contract')
    await redis.call('XADD', stream, '*', 'type', 'user.registered', 'event', '{"oops":')
    await redis.call('XADD', stream, '*', 'type', 'user.registered')
    const valid = userRegistered()
    await createPublisher({ redis, stream }).publish(valid)
    const seen: string[] = []
    const consumer = pool.create({
      stream,
      group: 'g',
      handler: { handle: (m) => void seen.push(m.event.id) },
    })
    await consumer.start()

    const dlq = createDeadLetters({ redis, stream, group: 'g' })
    await waitFor(async () => (await dlq.count()) === 2 && seen.length === 1, { message: 'two dead letters' })
    const { items } = await dlq.list({ order: 'oldest' })
    expect(items.map((l) => [l.error.code, l.deliveries])).toEqual([
      ['CONTRACT_VIOLATION', 1],
      ['CONTRACT_VIOLATION', 1],
    ])
    expect(items[0]?.event).toBe('{"oops":')
    expect(items[0]?.error.message).toContain('/event is not valid JSON')
    expect(items[1]?.error.message).toContain('/event field is missing')
    expect(seen).toEqual([valid.id])
    expect(await pendingOf(stream, 'g')).toBe(0)
  })

  it('dead-letters a NonRetryableError on its first delivery with the error code', async () => {
    const { stream, consumer } = await consumeOne('nonretryable', {
      handler: {
        handle() {
          throw new NonRetryableError('template missing', { code: 'TEMPLATE_MISSING' })
        },
      },
    })
    await consumer.start()
    const dlq = createDeadLetters({ redis, stream, group: 'g' })
    await waitFor(async () => (await dlq.count()) === 1)
    const [letter] = (await dlq.list()).items
    expect(letter).toMatchObject({
      deliveries: 1,
      error: { code: 'TEMPLATE_MISSING', message: 'template missing' },
    })
    expect(consumer.status().retried).toBe(0)
  })

  it('waits at least the RetryLaterError delay before delivering again', async () => {
    const at: number[] = []
    const { consumer } = await consumeOne('retrylater', {
      handler: {
        handle(m) {
          at.push(Date.now())
          if (m.deliveryCount === 1) throw new RetryLaterError('rate limited', { delayMs: 400 })
        },
      },
    })
    await consumer.start()
    await waitFor(() => at.length === 2, { message: 'the second delivery' })
    // Not a timing assertion on speed: the retry must not come before the delay the handler asked for.
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(400)
    expect(consumer.status()).toMatchObject({ processed: 1, retried: 1 })
  })
})

describe('handler timeout', () => {
  it('fails a handler call that outlives handlerTimeoutMs and delivers the entry again', async () => {
    const deliveries: number[] = []
    const { consumer } = await consumeOne('timeout', {
      handlerTimeoutMs: 100,
      handler: {
        async handle(m) {
          deliveries.push(m.deliveryCount)
          if (m.deliveryCount === 1) await new Promise(() => {}) // hangs
        },
      },
    })
    await consumer.start()
    await waitFor(() => consumer.status().processed === 1, { message: 'the second delivery to succeed' })
    expect(deliveries).toEqual([1, 2])
    expect(consumer.status()).toMatchObject({ failed: 1, retried: 1, lastError: null })
  })
})
