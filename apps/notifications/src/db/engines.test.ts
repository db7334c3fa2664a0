/**
 * The notifications database's conformance across engines: the same flows against libSQL and PostgreSQL (each
 * test its own file or schema), through the stores the domain uses; then the service on PostgreSQL through the
 * runner. The delivery store's own suite runs on both engines too (deliveries/store.test.ts).
 */
import { describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEvent } from '@flotilla/contracts'
import { itWaitsForItsDatabase, useFixture } from '@flotilla/service-kit/testing'
import { createDeliveryStore } from '../deliveries/store.ts'
import { createOutboxTransport } from '../outbox/store.ts'
import { notificationsService } from '../service.ts'
import { createTestApp, describeEachEngine, testDatabase } from '../testing.ts'
import { openDatabase } from './client.ts'
import { MIGRATIONS } from './migrations.ts'

const registered = (userId: string) =>
  createEvent('user.registered', { userId, email: `${userId}@example.com` }, { source: 'monolith' })

describeEachEngine((engine) => {
  const t = useFixture(() => createTestApp({ engine }))

  it('sends the welcome email once across redeliveries and concurrent copies, with contact, attempt and event', async () => {
    const event = registered('u-engine')
    await Promise.allSettled([t.handle(event), t.handle(event), t.handle(event)])
    await t.handle(event, { deliveryCount: 2 })
    await t.handle(event, { deliveryCount: 1, replay: true })
    const mails = (await t.core.outbox.list({ limit: 10 })).items
    expect(mails.map((m) => m.recipient)).toEqual(['u-engine@example.com'])
    expect((await t.core.contacts.get('u-engine'))?.email).toBe('u-engine@example.com')
    const [row] = (await t.core.deliveries.list({ userId: 'u-engine' })).items
    expect(row).toMatchObject({ status: 'sent', attempts: 1, critical: false, publishedStatus: 'sent' })
    expect((await t.core.deliveries.attempts(row?.id as string)).map((a) => a.outcome)).toEqual(['sent'])
    // One outcome event: concurrent copies may each publish it before the marker is written (PostgreSQL runs
    // them truly at once), always under the same derived id, which every consumer deduplicates on.
    const sent = await t.published('notification.sent')
    expect(sent.length).toBeGreaterThan(0)
    expect(new Set(sent.map((e) => e.id)).size).toBe(1)
    expect(await t.core.deliveries.countByStatus()).toEqual({ sent: 1 })
  })

  it('keeps contact fields an upsert leaves out, and replaces opt-outs as a whole', async () => {
    await t.core.contacts.upsert({ userId: 'u-c', email: 'c@example.com', locale: 'fr' })
    const merged = await t.core.contacts.upsert({ userId: 'u-c', phone: '+33600000002' })
    expect(merged).toMatchObject({ email: 'c@example.com', phone: '+33600000002', locale: 'fr' })
    await t.core.preferences.replace('u-c', [
      { category: 'marketing', channel: 'email' },
      { category: 'marketing', channel: 'sms' },
    ])
    await t.core.preferences.replace('u-c', [{ category: 'security', channel: 'push' }])
    expect(await t.core.preferences.optOuts('u-c')).toEqual([{ category: 'security', channel: 'push' }])
    expect(await t.core.preferences.isOptedOut('u-c', 'security', 'push')).toBe(true)
    expect(await t.core.preferences.isOptedOut('u-c', 'marketing', 'email')).toBe(false)
  })

  it('upserts many contacts in one call as one upsert each would, merging two inputs for one user in order', async () => {
    await t.core.contacts.upsert({ userId: 'u-m1', email: 'old@example.com', locale: 'fr' })
    const stored = await t.core.contacts.upsertMany([
      { userId: 'u-m1', phone: '+33600000003' },
      { userId: 'u-m2', email: 'm2@example.com' },
      { userId: 'u-m1', email: 'new@example.com' },
    ])
    expect([...stored.keys()].sort()).toEqual(['u-m1', 'u-m2'])
    const expected = { email: 'new@example.com', phone: '+33600000003', locale: 'fr', quietStart: null }
    expect(stored.get('u-m1')).toMatchObject(expected)
    expect(await t.core.contacts.get('u-m1')).toMatchObject(expected)
    expect(stored.get('u-m2')).toMatchObject({ email: 'm2@example.com', phone: null, locale: null })
  })

  it('stores an outbox message once per idempotency key and pages the outbox newest first', async () => {
    const transport = createOutboxTransport(t.core.database.db, 'email')
    const send = (i: number) =>
      transport.send({
        address: { channel: 'email', email: `o${i}@example.com` },
        message: { channel: 'email', subject: `s${i}`, html: '<p>x</p>', text: 'x' },
        idempotencyKey: `key-${i}`,
      } as Parameters<typeof transport.send>[0])
    const first = await send(1)
    expect(await send(1)).toEqual(first)
    for (const i of [2, 3, 4, 5]) await send(i)
    expect(await t.core.outbox.count()).toBe(5)
    const page = await t.core.outbox.list({ limit: 2 })
    const rest = await t.core.outbox.list({ limit: 10, ...(page.next ? { after: page.next } : {}) })
    const ids = [...page.items, ...rest.items].map((m) => m.idempotencyKey)
    expect(new Set(ids).size).toBe(5)
    expect(rest.next).toBeNull()
  })

  it('migrates once and gives one delivery to one of two pools claiming it together', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notifications-engines-'))
    const target = await testDatabase(engine, dir)
    const a = await openDatabase({ url: target.url })
    const b = await openDatabase({ url: target.url })
    try {
      const table = engine === 'libsql' ? 'schema_migrations' : 'notifications_schema_migrations'
      const applied = await a.client.execute(`SELECT name FROM ${table}`)
      expect(applied.rows.map((r) => String(r.name)).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort())
      const stores = [createDeliveryStore(a.db), createDeliveryStore(b.db)] as const
      const delivery = {
        id: 'shared',
        eventId: 'event-shared',
        eventType: 'notification.requested',
        channel: 'email',
        recipient: 'shared@example.com',
        address: null,
        userId: 'u-shared',
        tenantId: null,
        correlationId: null,
        traceparent: null,
        template: 'welcome',
        locale: 'en',
        category: 'account',
        critical: false,
        content: null,
        status: 'queued',
      }
      const ensured = await Promise.all(stores.map((s, i) => s.ensure({ ...delivery, id: `shared-${i}` })))
      expect(ensured[0]?.id).toBe(ensured[1]?.id as string)
      const id = ensured[0]?.id as string
      const lease = Date.now() + 60_000
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? stores[0] : stores[1]).claim(id, lease, 'outbox'),
        ),
      )
      expect(claims.filter((c) => c !== undefined)).toEqual([1])
      expect((await stores[1].attempts(id)).map((x) => [x.attempt, x.outcome])).toEqual([[1, 'started']])
    } finally {
      a.close()
      b.close()
      await target.drop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('notifications on PostgreSQL, through the runner', () => {
  itWaitsForItsDatabase(notificationsService, {
    urlVariable: 'NOTIFICATIONS_DB_URL',
    prefixVariable: 'NOTIFICATIONS_REDIS_PREFIX',
    check: 'database',
  })
})
