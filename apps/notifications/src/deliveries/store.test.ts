import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { type Database, openDatabase } from '../db/client.ts'
import { deliveries } from '../db/schema.ts'
import { describeEachEngine, newDeliveryOf, testDatabase } from '../testing.ts'
import { createDeliveryStore, type DeliveryStore, SELECT_DUE } from './store.ts'

let dir: string
let database: Database
let store: DeliveryStore
let drop: () => Promise<void>

const delivery = newDeliveryOf
const attemptsOf = async (id: string) => (await store.attempts(id)).map((a) => [a.attempt, a.outcome])

// The store's conformance suite: the same tests against libSQL and PostgreSQL.
describeEachEngine((engine) => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'notifications-store-'))
    const target = await testDatabase(engine, dir)
    drop = target.drop
    database = await openDatabase({ url: target.url })
    store = createDeliveryStore(database.db)
  })
  afterAll(async () => {
    database.close()
    await drop()
    await rm(dir, { recursive: true, force: true })
  })

  describe('the delivery store', () => {
    it('reads a row exactly as drizzle maps it, every column set', async () => {
      await store.ensure(
        delivery('full', {
          tenantId: 'tenant-1',
          correlationId: 'corr-1',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          critical: true,
          failureKind: 'transient',
          dueAt: 42,
          requestKey: 'key-1',
          digestKey: 'digest-1',
          data: '{"a":1}',
        }),
      )
      const attempt = await store.claim('full', Date.now() + 60_000, 'outbox')
      expect(attempt).toBe(1)
      await store.markSent('full', 1, 'outbox', 'message-1')
      await store.markPublished('full', 'sent')
      await database.client.execute({
        sql: "UPDATE deliveries SET delivered_at = 123, key_generation = 2, error_code = 'E', error_message = ?, digest_id = 'd' WHERE id = 'full'",
        args: ['é "quoted" \\ and\nnewline, 😀'],
      })
      const [expected] = await database.db.select().from(deliveries).where(eq(deliveries.id, 'full'))
      const row = await store.get('full')
      expect(row).toEqual(expected!)
      expect(Object.values(expected!).filter((v) => v === null)).toEqual([]) // every column was compared with a value
      expect(row?.critical).toBe(true)
    })

    it('finds due deliveries through an index that holds only the waiting ones: settled rows are never walked', async () => {
      // Settled deliveries keep their due_at, all of it in the past.
      for (let i = 0; i < 40; i++)
        await store.ensure(delivery(`settled-${i}`, { status: 'scheduled', dueAt: 1_000 + i }))
      await database.client.execute("UPDATE deliveries SET status = 'sent' WHERE id LIKE 'settled-%'")
      await store.ensure(delivery('waiting-due', { status: 'scheduled', dueAt: 2_000 }))
      await store.ensure(delivery('waiting-later', { status: 'scheduled', dueAt: 9_000 }))
      expect((await store.due(5_000, 10)).map((r) => r.id)).toEqual(['waiting-due'])
      // The plan reaches only waiting rows: through the partial index (usable since the query repeats its
      // predicate), or SQLite's pick on a small table, the status index searched for the waiting statuses.
      const explain = SELECT_DUE.replace('?', '5000').replace('?', '5000').replace('?', '10')
      const plan =
        engine === 'libsql'
          ? (await database.client.execute(`EXPLAIN QUERY PLAN ${explain}`)).rows.map((r) => String(r.detail))
          : await database.client
              .batch(['SET LOCAL enable_seqscan = off', `EXPLAIN ${explain}`], 'write')
              .then(([, rs]) => (rs?.rows ?? []).map((r) => String(Object.values(r)[0])))
      expect(plan.join('\n')).toMatch(/deliveries_waiting|USING INDEX deliveries_status \(status=\?\)/)
    })

    it('creates a delivery once: a second ensure returns the stored row and changes nothing', async () => {
      const first = await store.ensure(delivery('once'))
      const second = await store.ensure(
        delivery('once-copy', { eventId: 'event-once', recipient: 'once@example.com' }),
      )
      expect(second).toEqual(first)
      expect(second.id).toBe('once')
      expect(await store.get('once-copy')).toBeUndefined()
    })

    it('claims a queued delivery for one caller at a time and records exactly its attempt', async () => {
      await store.ensure(delivery('claimed'))
      const lease = Date.now() + 60_000
      const claims = await Promise.all([
        store.claim('claimed', lease, 'outbox'),
        store.claim('claimed', lease, 'outbox'),
      ])
      expect(claims.sort()).toEqual([1, undefined])
      expect(await attemptsOf('claimed')).toEqual([[1, 'started']])
    })

    it('records no attempt when the claim takes nothing (settled, or leased to someone else)', async () => {
      await store.ensure(delivery('settled', { status: 'suppressed' }))
      expect(await store.claim('settled', Date.now() + 60_000, 'outbox')).toBeUndefined()
      expect(await attemptsOf('settled')).toEqual([])
      expect(await store.claim('missing', Date.now() + 60_000, 'outbox')).toBeUndefined()
      expect(await attemptsOf('missing')).toEqual([])
    })

    it('takes a delivery again once its lease expired, as the next attempt', async () => {
      await store.ensure(delivery('expired'))
      expect(await store.claim('expired', Date.now() - 1, 'outbox')).toBe(1)
      expect(await store.claim('expired', Date.now() + 60_000, 'outbox')).toBe(2)
      expect(await attemptsOf('expired')).toEqual([
        [1, 'started'],
        [2, 'started'],
      ])
    })

    it('settles a delivery and its attempt together and returns the settled row', async () => {
      await store.ensure(delivery('sent'))
      await store.claim('sent', Date.now() + 60_000, 'outbox')
      const row = await store.markSent('sent', 1, 'outbox', 'message-2')
      expect(row).toMatchObject({
        status: 'sent',
        provider: 'outbox',
        providerMessageId: 'message-2',
        leaseUntil: 0,
      })
      expect(await attemptsOf('sent')).toEqual([[1, 'sent']])

      await store.ensure(delivery('dead'))
      await store.claim('dead', Date.now() + 60_000, 'outbox')
      const failure = { code: 'REFUSED', message: 'no', kind: 'permanent' as const }
      const dead = await store.markFinal('dead', 'dead', failure, {
        number: 1,
        outcome: 'dead',
        provider: 'outbox',
      })
      expect(dead).toMatchObject({ status: 'dead', errorCode: 'REFUSED', failureKind: 'permanent' })
      expect(await attemptsOf('dead')).toEqual([[1, 'dead']])
    })

    it('leaves a delivery that is no longer being sent as it is when a late answer arrives', async () => {
      await store.ensure(delivery('late'))
      await store.claim('late', Date.now() + 60_000, 'outbox')
      await store.markFinal('late', 'failed', { code: 'OUTCOME_UNKNOWN', message: 'gave up' })
      const row = await store.markSent('late', 1, 'outbox', 'message-3')
      expect(row).toMatchObject({ status: 'failed', providerMessageId: null })
    })

    it('puts a transient failure back in the queue with its attempt finished', async () => {
      await store.ensure(delivery('retry'))
      await store.claim('retry', Date.now() + 60_000, 'outbox')
      await store.markRetry('retry', 1, 'outbox', { code: 'BUSY', message: 'try later' })
      expect(await store.get('retry')).toMatchObject({ status: 'queued', errorCode: 'BUSY', leaseUntil: 0 })
      expect(await attemptsOf('retry')).toEqual([[1, 'retry']])
    })
  })
})
