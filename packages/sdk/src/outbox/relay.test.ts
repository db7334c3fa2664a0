import { afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { waitFor } from '@flotilla/streams/testing'
import { drizzle } from 'drizzle-orm/postgres-js'
import { enqueue } from './enqueue.ts'
import { createOutboxRelay, type OutboxRelay } from './relay.ts'
import { flotillaOutbox } from './schema.ts'
import { createOutboxFixture, numberedEvent, type OutboxFixture } from './test-helpers.ts'

// Real PostgreSQL, Redis and password hashing on a shared 2-core machine.
setDefaultTimeout(30_000)

let fx: OutboxFixture | undefined
const relays: OutboxRelay[] = []
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()))
  await fx?.close()
  fx = undefined
})
const track = (relay: OutboxRelay) => {
  relays.push(relay)
  return relay
}

const uniqueIds = (events: { id: string }[]) => new Set(events.map((e) => e.id))

describe('outbox relay', () => {
  it('relays 1,000 committed rows in order, each exactly once, and marks them sent', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    const events = Array.from({ length: 1000 }, (_, i) => numberedEvent(i))
    // Ten business transactions of 100 events each.
    for (let i = 0; i < 1000; i += 100) await db.transaction((tx) => enqueue(tx, events.slice(i, i + 100)))
    const relay = track(createOutboxRelay({ sql: fx.db.sql, publisher: fx.publisher, batchSize: 128 }))
    let taken = 0
    for (let n = await relay.relayOnce(); n > 0; n = await relay.relayOnce()) taken += n
    expect(taken).toBe(1000)
    const onStream = await fx.readStream()
    expect(onStream.map((e) => e.id)).toEqual(events.map((e) => e.id))
    expect(await relay.stats()).toEqual({ pending: 0, failed: 0, oldestPendingMs: null })
    expect(await relay.relayOnce()).toBe(0)
    expect(await fx.readStream()).toHaveLength(1000)
  })

  for (const ordering of ['strict', 'parallel'] as const) {
    it(`never sends a row twice when two relays run at once (${ordering})`, async () => {
      fx = await createOutboxFixture()
      const db = drizzle({ client: fx.db.sql })
      const events = Array.from({ length: 600 }, (_, i) => numberedEvent(i))
      await db.transaction((tx) => enqueue(tx, events))
      // Each relay on its own connection pool, as two processes would be.
      const options = { publisher: fx.publisher, batchSize: 25, ordering, pollIntervalMs: 20, listen: false }
      const a = track(createOutboxRelay({ ...options, sql: fx.db.connect() }))
      const b = track(createOutboxRelay({ ...options, sql: fx.db.connect() }))
      await Promise.all([a.start(), b.start()])
      const relay = a
      await waitFor(async () => (await relay.stats()).pending === 0, { timeoutMs: 20_000, message: 'drain' })
      await Promise.all([a.close(), b.close()])
      const onStream = await fx.readStream()
      expect(onStream).toHaveLength(600)
      expect(uniqueIds(onStream).size).toBe(600)
      if (ordering === 'strict') expect(onStream.map((e) => e.id)).toEqual(events.map((e) => e.id))
      expect(a.status().relayed + b.status().relayed).toBe(600)
    })
  }

  it('wakes on the insert notification instead of waiting for the poll interval', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    // A poll interval far longer than the test timeout: only the NOTIFY can move this event in time.
    const relay = track(
      createOutboxRelay({ sql: fx.db.sql, publisher: fx.publisher, pollIntervalMs: 3_600_000 }),
    )
    await relay.start()
    await waitFor(() => relay.status().running)
    // Let the first (empty) pass finish and the loop go to sleep.
    await Bun.sleep(100)
    const event = numberedEvent(7)
    await db.transaction((tx) => enqueue(tx, event))
    const [arrived] = await waitFor(async () => {
      const all = await fx!.readStream()
      return all.length > 0 ? all : undefined
    })
    expect(arrived?.id).toBe(event.id)
  })

  it('deletes sent rows once they are older than the retention, and never pending ones', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    await enqueue(db, [numberedEvent(1), numberedEvent(2), numberedEvent(3)])
    const relay = track(createOutboxRelay({ sql: fx.db.sql, publisher: fx.publisher, retentionMs: 60_000 }))
    await relay.relayOnce()
    await enqueue(db, numberedEvent(4))
    // Two rows were sent two minutes ago, one just now; the fourth is still pending.
    await fx.db.sql`update flotilla_outbox set sent_at = now() - interval '2 minutes' where id <= 2`
    expect(await relay.prune()).toBe(2)
    const left = await db.select().from(flotillaOutbox).orderBy(flotillaOutbox.id)
    expect(left.map((r) => r.event.payload)).toEqual([
      { userId: 'u_3', email: 'user3@example.com' },
      { userId: 'u_4', email: 'user4@example.com' },
    ])
    expect(left[1]?.sentAt).toBeNull()
  })

  it('marks a row that breaks the contract as failed and relays the rows after it', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    const good = [numberedEvent(1), numberedEvent(2)]
    await enqueue(db, good[0]!)
    // Written by hand, around enqueue's validation (another language, a manual fix gone wrong).
    const broken = { ...numberedEvent(9), payload: { email: 'no-user-id@example.com' } }
    await db.insert(flotillaOutbox).values({ eventId: broken.id, type: broken.type, event: broken })
    await enqueue(db, good[1]!)
    const failed: string[] = []
    const relay = track(
      createOutboxRelay({
        sql: fx.db.sql,
        publisher: fx.publisher,
        hooks: { onRowFailed: (id) => failed.push(id) },
      }),
    )
    expect(await relay.relayOnce()).toBe(3)
    expect((await fx.readStream()).map((e) => e.id)).toEqual(good.map((e) => e.id))
    expect(failed).toEqual([broken.id])
    expect(await relay.stats()).toEqual({ pending: 0, failed: 1, oldestPendingMs: null })
  })

  it('keeps rows pending and counts the attempt when Redis refuses the batch', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    await enqueue(db, numberedEvent(1))
    const unreachable = {
      publishBatch: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    }
    const relay = track(createOutboxRelay({ sql: fx.db.sql, publisher: unreachable }))
    await expect(relay.relayOnce()).rejects.toThrow('ECONNREFUSED')
    const [row] = await db.select().from(flotillaOutbox)
    expect(row?.sentAt).toBeNull()
    expect(row?.attempts).toBe(1)
    // The backlog shows its age, so an alert can fire while Redis refuses.
    await fx.db.sql`update flotilla_outbox set created_at = now() - interval '90 seconds'`
    const { pending, oldestPendingMs } = await relay.stats()
    expect(pending).toBe(1)
    expect(oldestPendingMs).toBeGreaterThanOrEqual(90_000)
    expect(row?.lastError).toContain('ECONNREFUSED')
    expect(relay.status().consecutiveFailures).toBe(1)
    // The next relay with a working Redis sends it.
    const working = track(createOutboxRelay({ sql: fx.db.sql, publisher: fx.publisher }))
    expect(await working.relayOnce()).toBe(1)
    expect(await fx.readStream()).toHaveLength(1)
  })
})
