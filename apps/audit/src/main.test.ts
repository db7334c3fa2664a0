import { afterAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEvent, createServiceTokenSigner, parseKeyRing } from '@flotilla/contracts'
import { DEV_SERVICE_TOKEN_SECRET } from '@flotilla/service-kit'
import { useTestProcesses } from '@flotilla/service-kit/testing'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import { cleanupStream, TEST_REDIS_URL, uniqueStreamName, waitFor } from '@flotilla/streams/testing'
import type { EventPage } from './events/model.ts'
import { sampleEvent } from './records/sample.ts'

const redis = createRedisConnection(TEST_REDIS_URL, 'command')
const stream = uniqueStreamName('audit-main')
const prefix = `test:audit:${crypto.randomUUID()}:`
const dataDir = await mkdtemp(join(tmpdir(), 'audit-main-'))
const processes = useTestProcesses()

afterAll(async () => {
  await cleanupStream(redis, stream)
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  await rm(dataDir, { recursive: true, force: true })
})

const freePort = () => {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() })
  const port = probe.port as number
  probe.stop(true)
  return port
}

it('runs as a process: records events, checkpoints its chains once, verifies, and shuts down cleanly', async () => {
  const port = freePort()
  const child = processes.spawn(join(import.meta.dir, 'main.ts'), [], {
    NODE_ENV: 'test',
    PORT: String(port),
    DATA_DIR: dataDir,
    EVENTS_STREAM: stream,
    REDIS_URL: TEST_REDIS_URL,
    AUDIT_REDIS_PREFIX: prefix,
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
  })
  const base = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${base}/ready`).catch(() => null))?.status === 200, {
    timeoutMs: 20_000,
    intervalMs: 100,
    message: 'audit service ready',
  })

  const publisher = createPublisher({ redis: createRedisConnection(TEST_REDIS_URL, 'producer'), stream })
  await publisher.publish(
    createEvent('user.registered', { userId: 'u_1' }, { source: 'monolith', tenantId: 'main-t' }),
  )
  await publisher.publishBatch([sampleEvent('main-t', 1), sampleEvent('main-t', 2)])

  const signer = createServiceTokenSigner(parseKeyRing(DEV_SERVICE_TOKEN_SECRET), 'ops')
  const get = async (path: string) =>
    fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${await signer.sign({ audience: 'audit' })}` },
    })

  // The three events, then the checkpoint of their head (seq 3) recorded as seq 4, and nothing after it.
  const page = await waitFor(
    async () => {
      const body = (await (await get('/v1/audit/events?tenantId=main-t')).json()) as EventPage
      return body.items.length >= 4 ? body : null
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'events and checkpoint recorded' },
  )
  expect(page.items.map((r) => r.type).sort()).toEqual([
    'audit.checkpoint',
    'order.placed',
    'order.placed',
    'user.registered',
  ])
  const checkpoint = page.items.find((r) => r.type === 'audit.checkpoint')
  expect(checkpoint).toMatchObject({ seq: 4, source: 'audit', payload: { chain: 'main-t', seq: 3 } })
  await Bun.sleep(2500) // two more checkpoint ticks: the head moved only by the checkpoint, so none follows
  expect(await (await get('/v1/audit/verify?tenantId=main-t')).json()).toMatchObject({
    ok: true,
    checked: 4,
    head: { seq: 4 },
    checkpoints: 2,
  })

  child.kill('SIGTERM')
  expect(await child.exited).toBe(0)
}, 60_000)
