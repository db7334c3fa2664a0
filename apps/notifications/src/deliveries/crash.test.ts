import { afterAll, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEvent, deadLetterStreamKey } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import {
  bunCommand,
  cleanupStream,
  testProcessEnv,
  uniqueStreamName,
  waitFor,
} from '@flotilla/streams/testing'
import { startFakeResend } from '../channels/fakes/resend-server.ts'
import { NOTIFICATIONS_GROUP } from '../consumer.ts'
import { openDatabase } from '../db/client.ts'
import { deleteKeys, REDIS_URL } from '../testing.ts'
import { createDeliveryStore } from './store.ts'

const TOTAL = 200
// A seeded generator: the same faults every run (5% answered 503, 2% answered after the client gave up).
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
}

const redis = createRedisConnection(REDIS_URL, 'command')
const stream = uniqueStreamName('notifications-crash')
const redisPrefix = `test:notifications:crash:${crypto.randomUUID().slice(0, 8)}:`
const dir = await mkdtemp(join(tmpdir(), 'notifications-crash-'))
const dbUrl = `file:${join(dir, 'notifications.db')}`
// Every answer takes 20 ms, so a kill can be timed to land while a send is in flight.
const resend = startFakeResend({
  failureRate: 0.05,
  slowRate: 0.02,
  slowMs: 1200,
  latencyMs: 20,
  random: seeded(42),
})
const children: ReturnType<typeof Bun.spawn>[] = []

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await Promise.all(children.map((c) => c.exited))
  await cleanupStream(redis, stream)
  await deleteKeys(redis, `${redisPrefix}*`)
  redis.disconnect()
  await resend.close()
  await rm(dir, { recursive: true, force: true })
})

const spawnConsumer = (consumerName: string) => {
  const options = {
    dbUrl,
    redisUrl: REDIS_URL,
    stream,
    consumerName,
    redisPrefix,
    resendUrl: resend.url,
    resendKey: resend.apiKey,
    timeoutMs: 400,
    // Well above Resend's 2/s default so the test stays short; the limiter still runs on every send.
    ratePerSecond: 200,
    claimIdleMs: 1000,
    maxDeliveries: 12,
  }
  const child = Bun.spawn(
    bunCommand(join(import.meta.dir, 'fixtures', 'consumer-process.ts'), JSON.stringify(options)),
    { env: testProcessEnv(), stdout: 'inherit', stderr: 'inherit' },
  )
  children.push(child)
  return child
}

it('sends 200 requested emails exactly once while Resend fails 5% and answers 2% too late, and the consumer is SIGKILLed twice', async () => {
  const database = await openDatabase({ url: dbUrl })
  const deliveries = createDeliveryStore(database.db)
  const events = Array.from({ length: TOTAL }, (_, i) =>
    createEvent(
      'notification.requested',
      {
        recipient: { userId: `crash-user-${i}`, email: `crash-${i}@example.com` },
        template: 'password-reset',
        data: { resetUrl: `https://app.flotilla.test/reset/${i}`, expiresInMinutes: 30 },
      },
      { source: 'monolith' },
    ),
  )
  // A producer retry appended 20 events twice: the envelope id, not the stream id, is the key.
  const publisher = createPublisher({ redis: createRedisConnection(REDIS_URL, 'producer'), stream })
  await publisher.publishBatch([...events, ...events.slice(0, 20)])

  const uniqueSends = () => new Set(resend.emails.map((e) => e.to[0])).size
  const first = spawnConsumer('crash-a')
  // Killed while a send is unanswered (nothing runs between the check and the kill but microtasks), so its
  // attempt is cut short for sure, whatever the batching of sends.
  await waitFor(() => uniqueSends() >= 50 && resend.inFlight > 0, {
    timeoutMs: 60_000,
    message: 'first consumer progress with a send in flight',
  })
  first.kill('SIGKILL')
  await first.exited
  const atFirstKill = uniqueSends()

  const second = spawnConsumer('crash-b')
  await waitFor(() => uniqueSends() >= atFirstKill + 50 && resend.inFlight > 0, {
    timeoutMs: 60_000,
    message: 'second consumer progress with a send in flight',
  })
  second.kill('SIGKILL')
  await second.exited
  const atSecondKill = uniqueSends()

  const third = spawnConsumer('crash-c')
  await waitFor(
    async () => {
      const counts = await deliveries.countByStatus()
      const pending = (await redis.xpending(stream, NOTIFICATIONS_GROUP)) as [number, ...unknown[]]
      return counts.sent === TOTAL && pending[0] === 0
    },
    { timeoutMs: 120_000, intervalMs: 200, message: 'every delivery sent and every entry acked' },
  )
  third.kill('SIGTERM')
  await third.exited

  // Exactly one message per recipient on the provider: none lost, none twice.
  const perRecipient = new Map<string, number>()
  for (const email of resend.emails)
    perRecipient.set(email.to[0] ?? '', (perRecipient.get(email.to[0] ?? '') ?? 0) + 1)
  expect(perRecipient.size).toBe(TOTAL)
  expect([...perRecipient.values()].every((n) => n === 1)).toBe(true)
  expect(resend.emails).toHaveLength(TOTAL)
  expect(await deliveries.countByStatus()).toEqual({ sent: TOTAL })
  expect(await redis.xlen(deadLetterStreamKey(stream, NOTIFICATIONS_GROUP))).toBe(0)
  // The faults really happened, and were retried through.
  expect(resend.faults.injected.status).toBeGreaterThan(0)
  expect(resend.faults.injected.slow).toBeGreaterThan(0)
  expect(resend.requests).toBeGreaterThan(TOTAL)
  // One notification.sent per delivery, whatever was republished after a crash.
  const sent = new Set<string>()
  for (const [, fields] of await redis.xrange(stream, '-', '+')) {
    if (fields[1] === 'notification.sent') sent.add((JSON.parse(fields[3] ?? '{}') as { id: string }).id)
  }
  expect(sent.size).toBe(TOTAL)
  const interrupted = await database.client.execute(
    // abandoned: taken over after the kill; started: the kill came between the record of the send and its attempt's.
    "SELECT count(*) AS n FROM delivery_attempts WHERE outcome IN ('abandoned', 'started')",
  )
  // The kills really landed mid-send: some attempts were taken over from a dead worker.
  expect(Number(interrupted.rows[0]?.n)).toBeGreaterThan(0)
  console.log(
    `crash test: ${atFirstKill} sent at the first kill, ${atSecondKill} at the second; ${resend.requests} requests to Resend for ${TOTAL} emails (${resend.faults.injected.status} × 503, ${resend.faults.injected.slow} late answers, ${resend.replays} answered from the idempotency key, ${interrupted.rows[0]?.n} attempts cut short by a kill)`,
  )
  database.close()
}, 240_000)
