import { expect, it, setDefaultTimeout } from 'bun:test'
import { createPublisher } from '../publisher.ts'
import { spawnConsumerFixture, useRedisStreams, userRegistered } from '../test-support.ts'
import { waitFor } from '../testing.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(120_000)

const TOTAL = 10_000
const { redis, pool, newStream, pendingOf } = useRedisStreams()

it('loses no event when a consumer process is SIGKILLed mid-batch in the middle of 10,000 events', async () => {
  const stream = newStream('crash')
  const handledKey = `${stream}:handled`
  const deadName = `crash-child-${process.pid}`
  const events = Array.from({ length: TOTAL }, () => userRegistered())
  const publisher = createPublisher({ redis, stream })
  for (let i = 0; i < TOTAL; i += 1000) await publisher.publishBatch(events.slice(i, i + 1000))

  const child = spawnConsumerFixture('crashing-consumer', stream, [deadName, handledKey, '3000'], 'ignore')
  try {
    const pendingOnDead = () => pendingOf(stream, 'g', deadName)
    await waitFor(async () => (await redis.scard(handledKey)) >= 3000 && (await pendingOnDead()) > 0, {
      timeoutMs: 30_000,
      message: 'the child to stall mid-batch',
    })
    child.kill('SIGKILL')
    await child.exited
    expect(child.signalCode).toBe('SIGKILL')
    const strandedOnDead = await pendingOnDead()
    const handledByDead = await redis.scard(handledKey)
    // The stalled batch, plus the next one when the reader had already prefetched it.
    expect([100, 200]).toContain(strandedOnDead)
    expect(handledByDead).toBeLessThan(TOTAL)

    const survivor = pool.create({
      stream,
      group: 'g',
      claimIdleMs: 300,
      handler: { handle: async (m) => void (await redis.sadd(handledKey, m.event.id)) },
    })
    await survivor.start()
    await waitFor(async () => (await redis.scard(handledKey)) === TOTAL, {
      timeoutMs: 60_000,
      message: 'every event handled',
    })
    await waitFor(async () => (await pendingOf(stream, 'g')) === 0, {
      timeoutMs: 30_000,
      message: 'nothing pending',
    })

    const handled = new Set(await redis.smembers(handledKey))
    expect(events.filter((e) => !handled.has(e.id))).toEqual([])
    // The dead consumer's batch (half of it never handled) was taken over by the survivor.
    expect(survivor.status().reclaimed).toBeGreaterThanOrEqual(strandedOnDead)
    expect(survivor.status().deadLettered).toBe(0)
  } finally {
    child.kill('SIGKILL')
    await redis.del(handledKey)
  }
})
