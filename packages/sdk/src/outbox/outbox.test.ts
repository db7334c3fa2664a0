import { afterEach, describe, expect, it } from 'bun:test'
import { ContractError, createCustomEvent } from '@flotilla/contracts'
import { drizzle } from 'drizzle-orm/postgres-js'
import { enqueue } from './enqueue.ts'
import { migrateOutbox } from './migrate.ts'
import { flotillaOutbox } from './schema.ts'
import { createOutboxFixture, numberedEvent, type OutboxFixture } from './test-helpers.ts'

let fx: OutboxFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

describe('outbox enqueue', () => {
  it('writes nothing when the business transaction rolls back', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    await fx.db.sql`create table orders (id text primary key)`
    const failure = new Error('payment declined')
    await expect(
      db.transaction(async (tx) => {
        await tx.execute("insert into orders values ('o_1')")
        await enqueue(tx, numberedEvent(1))
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(await db.select().from(flotillaOutbox)).toEqual([])
    expect(await fx.db.sql`select * from orders`).toHaveLength(0)
  })

  it('stores committed events with their envelope id, in insertion order', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    const events = [numberedEvent(1), numberedEvent(2), numberedEvent(3)]
    const ids = await db.transaction((tx) => enqueue(tx, events))
    expect(ids).toEqual(events.map((e) => e.id))
    const rows = await db.select().from(flotillaOutbox).orderBy(flotillaOutbox.id)
    expect(rows.map((r) => r.eventId)).toEqual(ids)
    expect(rows[0]?.event).toEqual(events[0]!)
    expect(rows.every((r) => r.sentAt === null && r.failedAt === null)).toBe(true)
  })

  it('refuses an event that breaks the contract, failing the business transaction', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    const bad = createCustomEvent('Order Placed', { orderId: 'o_1' }, { source: 'monolith' })
    await expect(db.transaction((tx) => enqueue(tx, bad))).rejects.toBeInstanceOf(ContractError)
    expect(await db.select().from(flotillaOutbox)).toEqual([])
  })

  it('refuses the same event id twice (an event is enqueued once)', async () => {
    fx = await createOutboxFixture()
    const db = drizzle({ client: fx.db.sql })
    const event = numberedEvent(1)
    await enqueue(db, event)
    await expect(enqueue(db, event)).rejects.toThrow()
    expect(await db.select().from(flotillaOutbox)).toHaveLength(1)
  })

  it('migrates idempotently (a second boot applies nothing)', async () => {
    fx = await createOutboxFixture()
    await migrateOutbox(fx.db.sql, { migrationsSchema: fx.db.schema })
    const [row] = await fx.db.sql<[{ n: number }]>`
      select count(*)::int as n from ${fx.db.sql(fx.db.schema)}.__flotilla_outbox_migrations`
    expect(row.n).toBe(2)
  })
})
