import { describe, expect, it } from 'bun:test'
import postgres from 'postgres'
import { sampleInput } from '../../records/sample.ts'
import { describeStoreConformance, useHarnessStore } from '../conformance.ts'
import { createTestDatabase, TEST_DATABASE_URL } from './fixtures/test-database.ts'
import { POSTGRES_MIGRATIONS } from './migrations.ts'
import { createPostgresStore } from './store.ts'

// PostgreSQL runs on every machine that builds this project (.ci/run starts it): never skipped.
describeStoreConformance('PostgreSQL', createTestDatabase)

describe('PostgreSQL store: append-only in the database', () => {
  const store = useHarnessStore(createTestDatabase, (s) =>
    s.append([1, 2, 3].map(() => sampleInput({ tenantId: 'ro' }))),
  )

  it('refuses UPDATE of a record, even through raw SQL', async () => {
    await expect(store().sql`UPDATE audit_records SET payload = '{}' WHERE seq = 2`).rejects.toThrow(
      /append-only: UPDATE refused/,
    )
  })

  it('refuses DELETE and TRUNCATE of records outside the retention path', async () => {
    await expect(store().sql`DELETE FROM audit_records WHERE chain = 'ro'`).rejects.toThrow(
      /DELETE only through retention/,
    )
    await expect(store().sql`TRUNCATE audit_records`).rejects.toThrow(/TRUNCATE refused/)
    expect((await store().chainRecords('ro', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3])
  })

  it('refuses DELETE past the anchor even in retention mode', async () => {
    await expect(
      store().sql.begin(async (tx) => {
        await tx`SELECT set_config('flotilla_audit.retention', 'on', true)`
        await tx`DELETE FROM audit_records WHERE chain = 'ro' AND seq = 3`
      }),
    ).rejects.toThrow(/DELETE only through retention/)
    expect((await store().chainRecords('ro', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3])
  })

  it('refuses writing, moving back or deleting an anchor outside the retention path', async () => {
    await expect(
      store().sql`INSERT INTO audit_anchors VALUES ('ro', 3, 'x', '2026-01-01T00:00:00.000Z')`,
    ).rejects.toThrow(/written only through retention/)
    await store().prune('ro', new Date(Date.now() + 60_000))
    await expect(
      store().sql.begin(async (tx) => {
        await tx`SELECT set_config('flotilla_audit.retention', 'on', true)`
        await tx`UPDATE audit_anchors SET seq = 1 WHERE chain = 'ro'`
      }),
    ).rejects.toThrow(/moves forward only/)
    await expect(store().sql`DELETE FROM audit_anchors`).rejects.toThrow(/DELETE refused/)
    await expect(store().sql`DELETE FROM audit_pruned_events`).rejects.toThrow(/append-only/)
    expect(await store().anchor('ro')).toMatchObject({ seq: 3 })
  })

  it('refuses re-inserting a pruned seq', async () => {
    const again = sampleInput({ tenantId: 'ro' })
    await expect(
      store()
        .sql`INSERT INTO audit_records (event_id, chain, seq, type, version, action, source, occurred_at, occurred_ms,
        received_at, payload, prev_hash, hash) VALUES (${again.eventId}, 'ro', 2, 't.x', 1, 'x', 's', ${again.occurredAt}, 0,
        ${again.receivedAt}, '{}', 'p', 'h')`,
    ).rejects.toThrow(/seq already pruned/)
  })

  it('keeps payloads exactly, even what jsonb would refuse or rewrite', async () => {
    const payload = { nul: 'a\u0000b', big: 1e21, tiny: 5e-324, quote: '"\\', z: 1, a: [{}] }
    const [record] = (await store().append([sampleInput({ tenantId: 'exact-pg', payload })])).appended
    expect((await store().recordAt('exact-pg', 1))?.payload).toEqual(payload)
    expect(record?.payload).toEqual(payload)
  })
})

describe('PostgreSQL store: migrations', () => {
  it('migrates once when several replicas boot together on an empty schema', async () => {
    const db = await createTestDatabase()
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => db.open({ max: 2 })))
      const first = stores[0] as (typeof stores)[number]
      const rows = await first.sql<{ name: string }[]>`SELECT name FROM audit_schema_migrations`
      expect(rows.map((r) => r.name)).toEqual([POSTGRES_MIGRATIONS[0]?.name as string])
      await Promise.all(stores.map((s) => s.close()))
    } finally {
      await db.cleanup()
    }
  })
})

describe('PostgreSQL store: served by a role that owns nothing (the README grants)', () => {
  it('boots, appends, prunes and counts, and cannot disable the triggers nor delete outside retention', async () => {
    const db = await createTestDatabase()
    // A login role of this test only (trust auth on 127.0.0.1), dropped with its grants afterwards.
    const role = `audit_test_role_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
    let store: Awaited<ReturnType<typeof createPostgresStore>> | undefined
    try {
      // The owner (postgres) migrates once; the service then runs as the role.
      await (await db.open()).close()
      const schema = `"${db.schema}"`
      await admin.unsafe(`CREATE ROLE "${role}" LOGIN`)
      await admin.unsafe(`GRANT USAGE ON SCHEMA ${schema} TO "${role}"`)
      await admin.unsafe(`GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA ${schema} TO "${role}"`)
      await admin.unsafe(`GRANT DELETE ON ${schema}.audit_records TO "${role}"`)
      await admin.unsafe(`GRANT UPDATE ON ${schema}.audit_anchors TO "${role}"`)
      const url = new URL(TEST_DATABASE_URL)
      url.username = role
      url.password = ''
      store = await createPostgresStore({ url: url.toString(), connection: { search_path: db.schema } })
      const old = new Date(Date.UTC(2020, 0, 1)).toISOString()
      await store.append(
        [old, old, new Date().toISOString()].map((receivedAt) => sampleInput({ tenantId: 'r', receivedAt })),
      )
      expect(await store.prune('r', new Date(Date.UTC(2021, 0, 1)))).toMatchObject({ seq: 2 })
      expect(await store.prune('r', new Date(Date.now() + 60_000))).toMatchObject({ seq: 3 })
      expect(await store.counts({ filter: { tenantId: 'r' }, groupBy: [], limit: 1 })).toEqual([
        { keys: {}, count: 0 },
      ])
      await store.append([sampleInput({ tenantId: 'r' })])
      expect(await store.counts({ filter: { tenantId: 'r' }, groupBy: ['tenant'], limit: 1 })).toEqual([
        { keys: { tenant: 'r' }, count: 1 },
      ])
      await expect(store.sql`ALTER TABLE audit_records DISABLE TRIGGER USER`).rejects.toThrow(/must be owner/)
      await expect(store.sql`DROP TRIGGER audit_records_no_update ON audit_records`).rejects.toThrow(
        /must be owner/,
      )
      await expect(store.sql`UPDATE audit_records SET hash = 'x'`).rejects.toThrow(
        /permission denied|UPDATE refused/,
      )
      await expect(store.sql`DELETE FROM audit_records`).rejects.toThrow(/DELETE only through retention/)
    } finally {
      await store?.close()
      await db.cleanup()
      await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`)
      await admin.end({ timeout: 1 })
    }
  })
})
