/**
 * The analytics queries use an index on both SQL stores: EXPLAIN QUERY PLAN on libSQL and EXPLAIN on
 * PostgreSQL, for the very SQL the stores run, on 4,000 records (ANALYZEd). PostgreSQL may prefer a sequential
 * scan on a table this small whatever the indexes, so its session sets `enable_seqscan = off` for the check:
 * the question is whether an index can serve the query, not which plan wins on a toy table. (On PostgreSQL 15
 * here it picked the same bitmap index scans with sequential scans allowed.) Each check also refuses a full
 * scan of the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/libsql'
import { sampleInput } from '../records/sample.ts'
import { useHarnessStore } from './conformance.ts'
import { auditRecords as libsqlRecords } from './libsql/schema.ts'
import * as libsql from './libsql/store.ts'
import { createTestDatabase } from './postgres/fixtures/test-database.ts'
import { auditRecords as pgRecords } from './postgres/schema.ts'
import * as pg from './postgres/store.ts'
import { countsQuery, topActorsQuery } from './sql-parts.ts'
import type { CountsQuery, RecordFilter } from './types.ts'

const RECORDS = 4000
const DAY = 86_400_000
const start = Date.UTC(2026, 2, 1)
const tenants = ['t-0', 't-1', 't-2', 't-3', 't-4']
const types = ['user.registered', 'user.login.succeeded', 'order.placed', 'order.paid', 'notification.sent']
const inputs = Array.from({ length: RECORDS }, (_, i) =>
  sampleInput({
    tenantId: i % 11 === 0 ? null : (tenants[i % tenants.length] as string),
    type: types[i % types.length] as string,
    source: i % 3 === 0 ? 'shop' : 'monolith',
    actorType: 'user',
    actorId: `u_${i % 40}`,
    // 4,000 records over 40 days: a week is about a sixth of them.
    occurredAt: new Date(start + Math.floor((i * 40 * DAY) / RECORDS)).toISOString(),
  }),
)
const week = { from: new Date(start + 10 * DAY), to: new Date(start + 17 * DAY) }

interface Case {
  readonly name: string
  readonly counts?: CountsQuery
  readonly topActors?: { filter: RecordFilter; limit: number }
  /** The index the plan must name. */
  readonly index: RegExp
}

const CASES: Case[] = [
  {
    name: 'one tenant, per hour, by type',
    counts: { filter: { tenantId: 't-1', ...week }, groupBy: ['type'], interval: 'hour', limit: 1000 },
    index: /audit_records_tenant_time/,
  },
  {
    name: 'every tenant, per day, by tenant and source',
    counts: { filter: week, groupBy: ['tenant', 'source'], interval: 'day', limit: 1000 },
    index: /audit_records_time/,
  },
  {
    name: 'one tenant, by actor',
    counts: { filter: { tenantId: 't-2', ...week }, groupBy: ['actor'], limit: 1000 },
    index: /audit_records_tenant_time/,
  },
  {
    name: 'top actors of one tenant',
    topActors: { filter: { tenantId: 't-3', ...week }, limit: 10 },
    index: /audit_records_tenant_time/,
  },
  {
    name: 'top actors of every tenant',
    topActors: { filter: week, limit: 10 },
    index: /audit_records_time/,
  },
]

const plans: string[] = []
afterAll(() => {
  // The plans, for the docs and the curious (bun test shows console output).
  console.log(plans.join('\n'))
})

describe('analytics query plans on libSQL (EXPLAIN QUERY PLAN)', () => {
  let dir: string
  let store: Awaited<ReturnType<typeof libsql.createLibsqlStore>>
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-plans-'))
    store = await libsql.createLibsqlStore({ url: `file:${join(dir, 'audit.db')}` })
    for (let i = 0; i < inputs.length; i += 500) await store.append(inputs.slice(i, i + 500))
    await store.client.execute('ANALYZE')
  })
  afterAll(async () => {
    await store?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  for (const c of CASES) {
    it(`${c.name}: uses ${c.index.source}`, async () => {
      const db = drizzle(store.client)
      const query = c.counts
        ? libsql.groupedSelect(db, countsQuery(libsqlRecords, c.counts)).toSQL()
        : libsql
            .groupedSelect(
              db,
              topActorsQuery(libsqlRecords, c.topActors?.filter ?? {}, c.topActors?.limit ?? 10),
            )
            .toSQL()
      const { rows } = await store.client.execute({
        sql: `EXPLAIN QUERY PLAN ${query.sql}`,
        args: query.params as never,
      })
      const plan = rows.map((r) => String(r.detail))
      plans.push(`libSQL · ${c.name}:`, ...plan.map((line) => `  ${line}`))
      expect(plan.join('\n')).toMatch(c.index)
      expect(plan.join('\n')).not.toMatch(/SCAN audit_records(?! USING)/)
    })
  }
})

describe('analytics query plans on PostgreSQL (EXPLAIN, enable_seqscan off)', () => {
  const store = useHarnessStore(createTestDatabase, async (s) => {
    for (let i = 0; i < inputs.length; i += 500) await s.append(inputs.slice(i, i + 500))
    await s.sql`ANALYZE audit_records`
  })

  for (const c of CASES) {
    it(`${c.name}: uses ${c.index.source}`, async () => {
      const query = c.counts
        ? pg.groupedSelect(store().db, countsQuery(pgRecords, c.counts)).toSQL()
        : pg
            .groupedSelect(
              store().db,
              topActorsQuery(pgRecords, c.topActors?.filter ?? {}, c.topActors?.limit ?? 10),
            )
            .toSQL()
      const plan = await store().sql.begin(async (tx) => {
        await tx`SET LOCAL enable_seqscan = off`
        const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(
          `EXPLAIN ${query.sql}`,
          query.params as never,
        )
        return rows.map((r) => r['QUERY PLAN'])
      })
      plans.push(`PostgreSQL · ${c.name}:`, ...plan.map((line) => `  ${line}`))
      expect(plan.join('\n')).toMatch(c.index)
      expect(plan.join('\n')).not.toMatch(/Seq Scan/)
    })
  }
})
