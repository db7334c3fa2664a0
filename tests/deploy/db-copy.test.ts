/**
 * `bun run ops db copy`: real libSQL files written by each app's own code, copied by the CLI into a PostgreSQL
 * schema of the test's own (dropped afterwards), twice (the second run copies nothing new), then read back on
 * PostgreSQL through the app's own store: same rows, and for audit every chain verifies.
 */
import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '@flotilla/analytics'
import { createTestStores, sampleEvent } from '@flotilla/analytics/testing'
import { createLibsqlStore, recordInputOf } from '@flotilla/audit/testing'
import { createCustomEvent, createEvent } from '@flotilla/contracts'
import { createTestApp as createNotificationsApp } from '@flotilla/notifications/testing'
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '@flotilla/service-kit/testing'
import { SQL } from 'bun'
import { sql } from 'drizzle-orm'
import { runScript } from './lib/run-script.ts'

const dir = mkdtempSync(join(tmpdir(), 'db-copy-'))
const schemas: TestSchema[] = []
afterAll(async () => {
  await Promise.all(schemas.map((s) => s.cleanup()))
  rmSync(dir, { recursive: true, force: true })
})
const schema = async (prefix: string) => {
  const s = await createTestSchema(prefix)
  schemas.push(s)
  return s
}

interface Copied {
  table: string
  source: number
  target: number
}
const copy = async (app: string, from: string, to: string) => {
  const run = await runScript('scripts/ops.ts', [
    'db',
    'copy',
    '--app',
    app,
    '--from',
    from,
    '--to',
    to,
    '--batch',
    '300',
    '--json',
  ])
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' })
  return JSON.parse(run.stdout) as Copied[] | { tables: Copied[]; chains: { chain: string; ok: boolean }[] }
}
const same = (tables: Copied[]) => tables.every((t) => t.source === t.target)

describe('ops db copy', () => {
  it('moves analytics (counters, rollups, ids, duration sketches, daily uniques) and reads the same answers on PostgreSQL', async () => {
    const s = await createTestStores()
    const events = Array.from({ length: 1200 }, (_, i) =>
      sampleEvent(`order.t${i % 7}`, new Date(Date.parse('2026-02-01T00:00:00Z') + i * 97_000), {
        tenantId: `t${i % 3}`,
        actor: `u${i % 50}`,
        payload: { durationMs: i % 500 },
      }),
    )
    for (let i = 0; i < events.length; i += 200) await s.ingest.ingestBatch(events.slice(i, i + 200))
    await s.rollups.rollupDirty()
    await s.uniques.persist()
    const target = await schema('copy_analytics')
    try {
      const first = (await copy('analytics', s.dbUrl, target.url)) as Copied[]
      expect(first.map((t) => t.table)).toContain('duration_sketches')
      expect(same(first)).toBe(true)
      expect(first.find((t) => t.table === 'processed_events')?.source).toBe(1200)
      const again = (await copy('analytics', s.dbUrl, target.url)) as Copied[]
      expect(again).toEqual(first)
      const pg = await openDatabase({ url: target.url })
      const query = sql`SELECT grain, tenant_id, type, SUM(count) AS n, COUNT(*) AS cells FROM counts GROUP BY grain, tenant_id, type ORDER BY grain, tenant_id, type`
      const norm = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({ ...r, n: Number(r.n), cells: Number(r.cells) }))
      expect(norm(await pg.db.all(query))).toEqual(norm(await s.database.db.all(query)))
      const sketches = sql`SELECT bucket, tenant_id, type, sketch FROM duration_sketches ORDER BY bucket, tenant_id, type`
      const bytes = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({ ...r, sketch: Buffer.from(r.sketch as Uint8Array).toString('hex') }))
      expect(bytes(await pg.db.all(sketches))).toEqual(bytes(await s.database.db.all(sketches)))
      await pg.close()
    } finally {
      await s.close()
    }
  }, 60_000)

  it('moves notifications (deliveries, attempts, contacts, outbox) and the delivery log reads the same', async () => {
    const t = await createNotificationsApp()
    try {
      for (let i = 0; i < 40; i++)
        await t.handle(
          createEvent(
            'user.registered',
            { userId: `u${i}`, email: `u${i}@example.com` },
            { source: 'monolith' },
          ),
        )
      await t.core.preferences.replace('u1', [{ category: 'marketing', channel: 'email' }])
      const target = await schema('copy_notifications')
      const first = (await copy('notifications', t.dbUrl, target.url)) as Copied[]
      expect(same(first)).toBe(true)
      expect(first.find((x) => x.table === 'deliveries')?.source).toBe(40)
      expect(await copy('notifications', t.dbUrl, target.url)).toEqual(first)
      const columns = 'id, event_id, recipient, status, attempts, content, created_at'
      const local = await t.core.database.client.execute(`SELECT ${columns} FROM deliveries ORDER BY id`)
      const pg = new SQL(TEST_DATABASE_URL)
      const copied = await pg.unsafe(`SELECT ${columns} FROM "${target.schema}".deliveries ORDER BY id`)
      await pg.close()
      const norm = (rows: ArrayLike<Record<string, unknown>>) =>
        Array.from(rows, (r) => ({ ...r, attempts: Number(r.attempts), created_at: Number(r.created_at) }))
      expect(norm(copied)).toEqual(norm(local.rows))
    } finally {
      await t.close()
    }
  }, 60_000)

  it('moves the audit log, anchors included, and every chain verifies on PostgreSQL', async () => {
    const file = `file:${join(dir, 'audit.db')}`
    const store = await createLibsqlStore({ url: file })
    const old = new Date(Date.UTC(2020, 0, 1))
    for (let b = 0; b < 6; b++) {
      await store.append(
        Array.from({ length: 150 }, (_, i) =>
          recordInputOf(
            createCustomEvent(
              'order.placed',
              { n: b * 150 + i, text: 'é "q" \\ 😀' },
              { source: 'shop', tenantId: `t${i % 4}` },
            ),
            b < 2 ? old : new Date(),
          ),
        ),
      )
    }
    // Retention pruned part of one chain: its anchor must move too, and the chain verify from it.
    expect(await store.prune('t1', new Date(Date.UTC(2021, 0, 1)))).not.toBeNull()
    await store.close()
    const target = await schema('copy_audit')
    const first = await copy('audit', file, target.url)
    if (Array.isArray(first)) throw new Error('audit reports chains')
    expect(same(first.tables)).toBe(true)
    expect(first.tables.find((x) => x.table === 'audit_anchors')?.source).toBe(1)
    expect(first.chains.map((c) => [c.chain, c.ok]).sort()).toEqual([
      ['t0', true],
      ['t1', true],
      ['t2', true],
      ['t3', true],
    ])
    expect(await copy('audit', file, target.url)).toEqual(first)
    const pg = new SQL(TEST_DATABASE_URL)
    const [t1] = await pg.unsafe(
      `SELECT min(seq) AS first FROM "${target.schema}".audit_records WHERE chain = 't1'`,
    )
    await pg.close()
    // The pruned prefix stays pruned: the chain starts right after its anchor.
    expect(Number(t1.first)).toBeGreaterThan(1)
  }, 60_000)

  it('refuses an unknown app, a source that is not libSQL or a target that is not PostgreSQL, naming the option', async () => {
    for (const [args, message] of [
      [['--app', 'auth', '--from', 'file:/x.db', '--to', 'postgres://h/d'], '--app must be one of'],
      [['--app', 'audit', '--from', 'postgres://h/d', '--to', 'postgres://h/d'], '--from must be'],
      [['--app', 'audit', '--from', 'file:/x.db', '--to', 'file:/y.db'], '--to must be a postgres:// URL'],
    ] as const) {
      const run = await runScript('scripts/ops.ts', ['db', 'copy', ...args])
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(message)
    }
  }, 60_000)
})
