import { expect, it, setDefaultTimeout } from 'bun:test'
import type { Redis } from 'ioredis'
import { createPublisher } from '../publisher.ts'
import { spawnConsumerFixture, useRedisStreams, userRegistered } from '../test-support.ts'
import { waitFor } from '../testing.ts'
import { createHeartbeat, heartbeatKey } from './heartbeat.ts'
import { silentLogger } from './runtime.ts'

// Real Redis and child processes under a loaded CI machine: room beyond bun's 5 s default.
setDefaultTimeout(120_000)

// Far beyond any wait below: an entry taken over here can only have been taken through the heartbeat.
const NEVER_BY_IDLE_TIME = 600_000

const { redis, pool, newStream, pendingOf } = useRedisStreams()

const consumerIdle = async (stream: string, consumer: string) => {
  const rows = (await redis.xinfo('CONSUMERS', stream, 'g')) as unknown[][]
  const row = rows.find((r) => r[1] === consumer)
  return row ? Number(row[row.indexOf('idle') + 1]) : -1
}

/** Spawns the stalling fixture and resolves to its consumer name once it is ready. */
const spawnStalling = (stream: string, handledKey: string) => {
  const child = spawnConsumerFixture('stalling-consumer', stream, ['hang', handledKey], 'pipe')
  const name = (async () => {
    let text = ''
    const decoder = new TextDecoder()
    const reader = child.stdout.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
      const line = text.split('\n').find((l) => l.includes('"ready":true'))
      if (line) return (JSON.parse(line) as { name: string }).name
    }
    throw new Error('the child exited before it was ready')
  })()
  return { child, name }
}

it('takes over a SIGKILLed process’s pending entries as soon as its heartbeat is gone, not after claimIdleMs', async () => {
  const stream = newStream('heartbeat')
  const handledKey = `${stream}:handled`
  const events = Array.from({ length: 120 }, () => userRegistered())
  await createPublisher({ redis, stream }).publishBatch(events)
  const { child, name } = spawnStalling(stream, handledKey)
  try {
    const deadName = await name
    await waitFor(async () => (await pendingOf(stream, 'g', deadName)) > 0, {
      timeoutMs: 30_000,
      message: 'the child to hang with entries pending',
    })
    expect(await redis.exists(heartbeatKey(stream, 'g', deadName))).toBe(1)
    child.kill('SIGKILL')
    await child.exited
    const stranded = await pendingOf(stream, 'g', deadName)
    expect(stranded).toBeGreaterThan(0)

    // The restarted process: a new consumer name, and a claim idle time it will never reach here.
    const deliveries = new Map<string, number>()
    const restarted = pool.create({
      stream,
      group: 'g',
      claimIdleMs: NEVER_BY_IDLE_TIME,
      handler: {
        handle: async (m) => {
          deliveries.set(m.event.id, m.deliveryCount)
          await redis.sadd(handledKey, m.event.id)
        },
      },
    })
    await restarted.start()
    await waitFor(async () => (await redis.scard(handledKey)) === events.length, {
      timeoutMs: 60_000,
      message: 'every event handled',
    })
    await waitFor(async () => (await pendingOf(stream, 'g')) === 0, {
      timeoutMs: 30_000,
      message: 'nothing pending',
    })
    expect(await redis.exists(heartbeatKey(stream, 'g', deadName))).toBe(0)
    expect(restarted.status().reclaimed).toBe(stranded)
    expect(restarted.status().deadLettered).toBe(0)
    // Delivery counts carry over: the entries the dead process held come back as their second delivery.
    expect([...deliveries.values()].filter((n) => n === 2)).toHaveLength(stranded)
    expect([...deliveries.values()].filter((n) => n !== 1 && n !== 2)).toEqual([])
  } finally {
    child.kill('SIGKILL')
    await redis.del(handledKey)
  }
})

it('leaves a live consumer’s entries alone while its handler runs long past the heartbeat TTL', async () => {
  const stream = newStream('heartbeat-live')
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const seen: string[] = []
  try {
    const busy = pool.create({
      stream,
      group: 'g',
      claimIdleMs: NEVER_BY_IDLE_TIME,
      heartbeatTtlMs: 200,
      handler: {
        handle: async (m) => {
          seen.push(`busy:${m.event.id}`)
          await released
        },
      },
    })
    await busy.start()
    const other = pool.create({
      stream,
      group: 'g',
      claimIdleMs: NEVER_BY_IDLE_TIME,
      heartbeatTtlMs: 200,
      handler: { handle: (m) => void seen.push(`other:${m.event.id}`) },
    })
    const event = userRegistered()
    await createPublisher({ redis, stream }).publish(event)
    await waitFor(async () => (await pendingOf(stream, 'g', busy.name)) === 1, {
      message: 'the busy consumer to hold it',
    })
    await other.start()
    // Silent (no read, no claim) for many heartbeat TTLs, yet beating: it is busy, not dead.
    await waitFor(async () => (await consumerIdle(stream, busy.name)) >= 2000, {
      timeoutMs: 30_000,
      message: 'the busy consumer to stay silent for 10 heartbeat TTLs',
    })
    expect(other.status().reclaimed).toBe(0)
    expect(await pendingOf(stream, 'g', busy.name)).toBe(1)
    release()
    await waitFor(async () => busy.status().processed === 1, { message: 'the busy handler to finish' })
    expect(seen).toEqual([`busy:${event.id}`])
    expect(busy.status().zombieAcksRefused).toBe(0)
  } finally {
    release()
  }
})

it('deletes its heartbeat on close', async () => {
  const stream = newStream('heartbeat-close')
  const consumer = pool.create({ stream, group: 'g', handler: { handle: () => {} } })
  await consumer.start()
  expect(await redis.pttl(heartbeatKey(stream, 'g', consumer.name))).toBeGreaterThan(0)
  await consumer.close()
  expect(await redis.exists(heartbeatKey(stream, 'g', consumer.name))).toBe(0)
})

it('calls nobody dead while its own beats are not getting through, nor for one TTL after they resume', async () => {
  let paused: Promise<void> | undefined
  let resume: () => void = () => {}
  let beats = 0
  // A command connection whose SET hangs while "Redis" is paused.
  const command = {
    set: async () => {
      if (paused) await paused
      beats++
      return 'OK'
    },
    del: async () => 1,
  } as unknown as Redis
  const heartbeat = createHeartbeat(
    { stream: 's', group: 'g', name: 'me', logger: silentLogger, command: () => command },
    500,
  )
  await heartbeat.start()
  try {
    expect(heartbeat.mayJudgeOthers()).toBe(true)
    paused = new Promise<void>((resolve) => {
      resume = resolve
    })
    await waitFor(() => !heartbeat.mayJudgeOthers(), { message: 'its own beats to stop getting through' })
    const before = beats
    paused = undefined
    resume()
    await waitFor(() => beats > before, { message: 'a beat after the pause' })
    // Back, but every other consumer's key may have lapsed meanwhile: give them a TTL to beat again.
    expect(heartbeat.mayJudgeOthers()).toBe(false)
    await waitFor(() => heartbeat.mayJudgeOthers(), { message: 'one TTL of beats after the pause' })
  } finally {
    resume()
    await heartbeat.stop()
  }
})
