import { expect, it, setDefaultTimeout } from 'bun:test'
import { createCustomEvent, deadLetterStreamKey, encodeEntry } from '@flotilla/contracts'
import { spawnConsumerFixture, useRedisConnection, userRegistered } from '../test-support.ts'
import { cleanupStream, uniqueStreamName, waitFor } from '../testing.ts'

// Child processes that die and are replaced on a loaded CI machine.
setDefaultTimeout(60_000)

const redis = useRedisConnection()

it('dead-letters an entry that kills its process after maxDeliveries without taking its batch-mates along', async () => {
  const stream = uniqueStreamName('process-killer')
  const handledKey = `${stream}:handled`
  const good = Array.from({ length: 40 }, () => userRegistered())
  const killer = createCustomEvent('test.process.exit', {}, { source: 'test' })
  // One batch: good events around the killer, and two contract violations.
  const entries = [
    ...good.slice(0, 20).map((e) => encodeEntry(e)),
    encodeEntry(killer),
    ['type', 'user.registered'],
    ['event', '{"not": "an event"}'],
    ...good.slice(20).map((e) => encodeEntry(e)),
  ]
  const ids: string[] = []
  for (const fields of entries) ids.push(String(await redis.xadd(stream, '*', ...fields)))
  const children: ReturnType<typeof Bun.spawn>[] = []
  const spawn = () =>
    children.push(spawnConsumerFixture('exiting-consumer', stream, [handledKey, '3'], 'ignore'))
  try {
    spawn()
    const dlq = deadLetterStreamKey(stream, 'g')
    // A process that exits is replaced, as a supervisor would (bounded).
    await waitFor(
      async () => {
        const live = children.filter((c) => c.exitCode === null && c.signalCode === null)
        if (live.length === 0 && children.length < 10) spawn()
        return (await redis.xlen(dlq)) >= 3 && (await redis.scard(handledKey)) === good.length
      },
      { timeoutMs: 40_000, intervalMs: 50, message: 'the killer dead-lettered and every good event handled' },
    )
    const letters = (await redis.xrange(dlq, '-', '+')).map(([, f]) => {
      const r: Record<string, string> = {}
      for (let i = 0; i + 1 < f.length; i += 2) r[f[i] as string] = f[i + 1] as string
      return r
    })
    expect(letters.map((l) => l.originalId).sort()).toEqual([ids[20], ids[21], ids[22]].sort())
    expect(letters.find((l) => l.originalId === ids[20])?.deliveries).toBe('3')
    // Contract violations are dead-lettered on their first delivery, before the handler could kill the process.
    for (const id of [ids[21], ids[22]])
      expect(letters.find((l) => l.originalId === id)?.deliveries).toBe('1')
    expect(children.filter((c) => c.exitCode === 3).length).toBe(3)
  } finally {
    for (const c of children) c.kill('SIGKILL')
    await Promise.all(children.map((c) => c.exited))
    await redis.del(handledKey)
    await cleanupStream(redis, stream)
  }
})
