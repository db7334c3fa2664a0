/**
 * The monolith's outbox relay dies after it published a batch but before it marked the rows sent: the committed
 * event still arrives, is published again with the same id when a relay comes back, and audit, analytics and
 * notifications take it once.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { join } from 'node:path'
import { bunCommand, testProcessEnv } from '@flotilla/streams/testing'
import {
  analyticsCount,
  auditRecords,
  groupSettled,
  metricValue,
  monolith,
  outboxFor,
  signUpAndIn,
} from './harness/api.ts'
import { eventually } from './harness/http.ts'
import { ROOT } from './harness/processes.ts'
import { DATABASE_URL, type Stack, startStack } from './harness/stack.ts'

// Real processes on a shared 2-core machine: flows wait up to 20 s for the consumers.
setDefaultTimeout(60_000)

const needed = ['auth', 'notifications', 'audit', 'analytics'] as const
let stack: Stack

/** Runs the SDK's crash fixture: a relay that publishes one batch, then hangs until killed. */
const publishThenDie = async (): Promise<string[]> => {
  const child = Bun.spawn(
    bunCommand(
      join(ROOT, 'packages/sdk/src/outbox/relay-crash.fixture.ts'),
      DATABASE_URL,
      stack.schema,
      stack.stream,
      // The stack's Redis: a Redis Cluster when the flows run on one (tests/cluster).
      stack.redis.url,
      stack.redis.cluster ? 'cluster' : 'single',
    ),
    { env: testProcessEnv(), stdout: 'pipe', stderr: 'inherit' },
  )
  try {
    const reader = child.stdout.getReader()
    const decoder = new TextDecoder()
    let text = ''
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true })
      const line = text.split('\n').find((l) => l.startsWith('published '))
      if (line) return line.slice('published '.length).split(',')
    }
    throw new Error(`the relay exited before publishing: ${text}`)
  } finally {
    child.kill('SIGKILL')
    await child.exited
  }
}

const order = (token: string, correlationId: string) =>
  monolith<{ orderId: string; eventId: string }>(
    stack,
    'POST',
    '/orders',
    { items: [{ sku: 'tea', quantity: 1, priceCents: 450 }] },
    { authorization: `Bearer ${token}`, 'x-correlation-id': correlationId },
  )

describe(`relay killed between publish and mark-sent (${needed.join(', ')})`, () => {
  beforeAll(async () => {
    stack = await startStack({ apps: needed, separateRelay: true })
    await stack.killRelay()
  }, 120_000)
  afterAll(() => stack?.stop())

  it('delivers the committed event again with the same id, and audit and analytics take it once', async () => {
    const session = await signUpAndIn(
      stack,
      { email: 'ken@example.com', password: 'correct horse battery' },
      {
        id: 'laptop-1',
        name: 'Laptop',
      },
    )
    const placed = await order(session.accessToken, 'order-under-test')
    expect(placed.status).toBe(201)
    // Committed, but no relay runs: nothing has reached the stream.
    expect(await auditRecords(stack, { correlationId: 'order-under-test' })).toEqual([])

    // A relay publishes the pending rows and dies before marking them sent.
    const published = await publishThenDie()
    expect(published).toContain(placed.body.eventId)

    // A new relay publishes the same rows again (same ids); then one more order as a marker.
    await stack.startRelay()
    const marker = await order(session.accessToken, 'marker-order')
    expect(marker.status).toBe(201)
    await eventually('the marker order in audit and analytics', async () =>
      (await auditRecords(stack, { correlationId: 'marker-order' })).length === 1 &&
      (await analyticsCount(stack, 'order.placed')) >= 2
        ? true
        : undefined,
    )

    const records = await auditRecords(stack, { type: 'order.placed' })
    expect(records.filter((r) => r.eventId === placed.body.eventId)).toHaveLength(1)
    expect(records).toHaveLength(2)
    expect(await analyticsCount(stack, 'order.placed')).toBe(2)
    expect(await analyticsCount(stack, 'user.registered')).toBe(1)
    // user.registered went out twice too: once notifications has taken every entry, one welcome email all the same.
    await eventually('notifications to take every entry', () => groupSettled(stack, 'notifications'))
    const welcome = await eventually('the welcome email', async () => {
      const found = (await outboxFor(stack, 'ken@example.com')).filter((m) =>
        m.subject?.startsWith('Welcome'),
      )
      return found.length > 0 ? found : undefined
    })
    expect(welcome).toHaveLength(1)
    // The stream did carry every row of the first batch twice: audit saw and skipped each duplicate.
    await eventually('audit to report the duplicates it skipped', async () =>
      (await metricValue(stack, 'audit', 'audit_duplicates_skipped_total')) >= published.length
        ? true
        : undefined,
    )
  })
})
