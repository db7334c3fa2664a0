import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { type AnyEvent, createEvent, deadLetterStreamKey } from '@flotilla/contracts'
import type { ConsumerMessage } from '@flotilla/streams'
import { bunCommand, testProcessEnv, waitFor } from '@flotilla/streams/testing'
import { sql } from 'drizzle-orm'
import { createTestApp, sampleEvent, type TestApp } from '../testing.ts'
import { createEveryEventHandler } from './every-event.ts'

let h: TestApp
beforeEach(async () => {
  h = await createTestApp({
    env: { ANALYTICS_CONSUMER_BATCH_SIZE: '200', ANALYTICS_CONSUMER_CLAIM_IDLE_MS: '1000' },
  })
})
afterEach(() => h.close())

const message = (event: AnyEvent, streamId: string): ConsumerMessage => ({
  streamId,
  deliveryCount: 1,
  group: 'analytics',
  known: false,
  event,
})

const readLine = async (reader: ReadableStreamDefaultReader<Uint8Array>, prefix: string) => {
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`child exited before printing ${prefix}; output: ${text}`)
    text += decoder.decode(value)
    const line = text.split('\n').find((l) => l.startsWith(prefix))
    if (line) return line
  }
}

describe('every-event handler', () => {
  it('fails only the event that cannot be counted and counts the rest of its batch', async () => {
    const good = sampleEvent('order.placed', '2026-03-01T10:00:00Z')
    const bad = sampleEvent('poison.pill', '2026-03-01T10:00:00Z')
    // The real ingest, except that any batch holding the poison event fails (as a constraint would).
    const ingest = {
      ingestBatch: (events: readonly AnyEvent[]) =>
        events.some((e) => e.id === bad.id)
          ? Promise.reject(new Error('poison'))
          : h.deps.ingest.ingestBatch(events),
    }
    const handler = createEveryEventHandler({ ingest })
    const failures = await handler.handleBatch([message(good, '1-0'), message(bad, '2-0')])
    expect([...(failures?.keys() ?? [])]).toEqual(['2-0'])
    const rows = await h.deps.database.db.all<{ n: number }>(sql`SELECT SUM(count) AS n FROM counts`)
    expect(rows[0]?.n).toBe(1)
  })

  it('counts a type by its name whatever the version: v1, v2 and an unlisted v99 alike', async () => {
    const v1 = createEvent(
      'user.password.changed',
      { userId: 'u_1', via: 'reset' },
      { source: 'monolith', version: 1 },
    )
    const v2 = createEvent(
      'user.password.changed',
      { userId: 'u_1', reason: 'reset' },
      { source: 'monolith' },
    )
    const v99 = {
      ...v2,
      id: crypto.randomUUID(),
      version: 99,
      payload: { future: true },
    } as unknown as AnyEvent
    const handler = createEveryEventHandler({ ingest: h.deps.ingest })
    const failures = await handler.handleBatch([
      { ...message(v1, '1-0'), known: true, event: v1 },
      { ...message(v2, '2-0'), known: true, event: v2 },
      message(v99, '3-0'),
    ])
    expect([...(failures?.keys() ?? [])]).toEqual([])
    const rows = await h.deps.database.db.all<{ type: string; n: number }>(
      sql`SELECT type, SUM(count) AS n FROM counts WHERE grain = 'minute' GROUP BY type`,
    )
    expect(rows).toEqual([{ type: 'user.password.changed', n: 3 }])
  })

  it('counts 10,000 events exactly through duplicates, redelivery and a consumer SIGKILLed after a commit', async () => {
    // Types outside the catalogue (opaque payloads): known types would need their typed payloads.
    const types = ['order.placed', 'order.paid', 'cart.abandoned', 'page.viewed', 'search.performed']
    const start = Date.parse('2026-04-01T08:00:00Z')
    const events = Array.from({ length: 10_000 }, (_, i) =>
      sampleEvent(types[i % types.length] as string, new Date(start + i * 997), {
        tenantId: `t${i % 3}`,
        source: i % 4 === 0 ? 'shop' : 'monolith',
        actor: `u${i % 700}`,
      }),
    )
    const expected = new Map<string, number>()
    for (const e of events)
      expected.set(
        `${e.type}|${e.tenantId}|${e.source}`,
        (expected.get(`${e.type}|${e.tenantId}|${e.source}`) ?? 0) + 1,
      )
    // Producers re-append after reconnects: 300 events appear twice in the stream, as new entries.
    await h.publish([...events, ...events.filter((_, i) => i % 33 === 0).slice(0, 300)])

    const child = Bun.spawn(bunCommand(join(import.meta.dir, 'consumer-child.ts'), '--pause-after=3000'), {
      env: testProcessEnv(h.env),
      stdout: 'pipe',
      stderr: 'inherit',
    })
    try {
      const paused = await readLine(child.stdout.getReader(), 'PAUSED')
      expect(Number(paused.split(' ')[1])).toBeGreaterThanOrEqual(3000)
      child.kill('SIGKILL')
      await child.exited
    } finally {
      child.kill('SIGKILL')
    }
    expect(child.signalCode).toBe('SIGKILL')

    // The dead consumer left entries pending whose events it had already counted: they will come again.
    const pending = (await h.redis.xpending(h.stream, 'analytics', '-', '+', 1000)) as [
      string,
      string,
      number,
      number,
    ][]
    expect(pending.length).toBeGreaterThan(0)
    const pendingIds = new Set(pending.map(([id]) => id))
    const entries = await h.redis.xrange(h.stream, '-', '+')
    const pendingEventIds = entries
      .filter(([id]) => pendingIds.has(id))
      .map(([, fields]) => (JSON.parse(fields[3] as string) as { id: string }).id)
    const already = await h.deps.database.db.all<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM processed_events WHERE id IN (${sql.join(
        pendingEventIds.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    )
    expect(already[0]?.n).toBeGreaterThan(0)

    // A second consumer takes over: reclaims the dead one's entries and finishes the stream.
    await h.deps.consumer.start()
    await waitFor(
      async () => {
        const groups = (await h.redis.xinfo('GROUPS', h.stream)) as unknown[][]
        const g = groups.map((x) =>
          Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]])),
        )
        const analytics = g.find((x) => x.name === 'analytics')
        return analytics && analytics.pending === 0 && analytics.lag === 0
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the analytics group to drain' },
    )
    expect(h.deps.consumer.status().reclaimed).toBeGreaterThan(0)
    expect(await h.redis.xlen(deadLetterStreamKey(h.stream, 'analytics'))).toBe(0)

    const rows = await h.deps.database.db.all<{ type: string; tenant_id: string; source: string; n: number }>(
      sql`SELECT type, tenant_id, source, SUM(count) AS n FROM counts WHERE grain = 'minute' GROUP BY type, tenant_id, source`,
    )
    const actual = new Map(rows.map((r) => [`${r.type}|${r.tenant_id}|${r.source}`, r.n]))
    expect(actual).toEqual(expected)
    expect([...actual.values()].reduce((a, b) => a + b, 0)).toBe(10_000)
    const ids = await h.deps.database.db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM processed_events`)
    expect(ids[0]?.n).toBe(10_000)

    // The second consumer saw the dead one's counted-but-unacked events again and skipped them.
    const metrics = await (await h.get('/metrics')).text()
    const duplicates = Number(metrics.match(/^analytics_events_duplicate_total\{[^}]*\} (\d+)$/m)?.[1])
    expect(duplicates).toBeGreaterThan(0)

    // Rolled up and asked over HTTP, the total is still exact.
    await h.deps.rollups.rollupDirty()
    const res = await h.get(
      `/v1/stats/summary?from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z`,
      await h.serviceToken(),
    )
    expect(((await res.json()) as { total: number }).total).toBe(10_000)
  }, 90_000)
})
