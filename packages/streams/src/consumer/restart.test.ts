import { afterEach, expect, it, setDefaultTimeout } from 'bun:test'
import type { Subprocess } from 'bun'
import { closeConnection, createRedisConnection } from '../connection.ts'
import { createPublisher, PublishError } from '../publisher.ts'
import { consumerPool, userRegistered } from '../test-support.ts'
import { testProcessEnv, waitFor } from '../testing.ts'

// Real Redis under a loaded CI machine: room beyond bun's 5 s default (bunfig has no test timeout option).
setDefaultTimeout(60_000)

/** A private, throwaway redis-server (no persistence), so restarting it disturbs nobody else's tests. */
const freePort = () => {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}
const startRedis = async (port: number): Promise<Subprocess> => {
  const server = Bun.spawn(
    ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { env: testProcessEnv(), stdout: 'ignore', stderr: 'inherit' },
  )
  const probe = createRedisConnection(`redis://127.0.0.1:${port}`, 'command', { retryStrategy: () => 50 })
  probe.on('error', () => {})
  try {
    await waitFor(
      () =>
        probe.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
      { message: 'redis-server to answer' },
    )
  } finally {
    probe.disconnect()
  }
  return server
}

const pool = consumerPool()
let server: Subprocess | undefined
afterEach(async () => {
  await pool.closeAll()
  server?.kill('SIGKILL')
})

it('survives a Redis restart without persistence: publishes fail fast meanwhile, then the group is recreated', async () => {
  const port = freePort()
  const url = `redis://127.0.0.1:${port}`
  server = await startRedis(port)
  const producer = createRedisConnection(url, 'producer')
  producer.on('error', () => {})
  const publisher = createPublisher({ redis: producer, stream: 'events' })
  const seen = new Set<string>()
  const consumer = pool.create({
    stream: 'events',
    group: 'audit',
    connectionFactory: (role) => createRedisConnection(url, role),
    handler: { handle: (m) => void seen.add(m.event.id) },
  })
  try {
    await consumer.start()
    const before = userRegistered()
    await publisher.publish(before)
    await waitFor(() => seen.has(before.id), { message: 'the event before the restart' })

    server.kill('SIGKILL')
    await server.exited
    await expect(publisher.publish(userRegistered())).rejects.toBeInstanceOf(PublishError)

    server = await startRedis(port) // empty: no stream, no group
    const after = userRegistered()
    await waitFor(
      () =>
        publisher.publish(after).then(
          () => true,
          () => false,
        ),
      {
        message: 'the producer to reconnect',
        timeoutMs: 10_000,
      },
    )
    await waitFor(() => seen.has(after.id), { message: 'the event after the restart', timeoutMs: 20_000 })
    expect(consumer.status().groupRecreations).toBeGreaterThanOrEqual(1)
  } finally {
    await consumer.close()
    await closeConnection(producer)
  }
})
