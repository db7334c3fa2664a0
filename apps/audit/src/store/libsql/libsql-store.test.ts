import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '@flotilla/service-kit'
import { type Client, createClient } from '@libsql/client'
import Database from 'libsql'
import { sampleInput } from '../../records/sample.ts'
import { describeStoreConformance, useHarnessStore } from '../conformance.ts'
import { AUDIT_MIGRATIONS, NO_INSERT_BELOW_ANCHOR_TRIGGER } from './migrations.ts'
import { createLibsqlStore } from './store.ts'

const tempStore = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-libsql-'))
  const url = `file:${join(dir, 'audit.db')}`
  return {
    url,
    open: () => createLibsqlStore({ url }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

describeStoreConformance('libSQL', tempStore)

describe('libSQL store: append-only in the database', () => {
  const store = useHarnessStore(tempStore, (s) =>
    s.append([1, 2, 3].map(() => sampleInput({ tenantId: 'ro' }))),
  )

  it('refuses UPDATE of a record, even through raw SQL', async () => {
    await expect(
      store().client.execute("UPDATE audit_records SET payload = '{}' WHERE seq = 2"),
    ).rejects.toThrow(/append-only: UPDATE refused/)
  })

  it('refuses DELETE of a record outside the retention path', async () => {
    await expect(store().client.execute("DELETE FROM audit_records WHERE chain = 'ro'")).rejects.toThrow(
      /DELETE only through retention/,
    )
    expect((await store().chainRecords('ro', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3])
  })

  it('refuses DELETE past the anchor even in retention mode', async () => {
    const tx = await store().client.transaction('write')
    try {
      await tx.execute('INSERT INTO audit_retention_mode (id) VALUES (1)')
      await expect(tx.execute("DELETE FROM audit_records WHERE chain = 'ro' AND seq = 3")).rejects.toThrow(
        /DELETE only through retention/,
      )
    } finally {
      await tx.rollback()
    }
  })

  it('refuses writing an anchor outside the retention path', async () => {
    await expect(
      store().client.execute("INSERT INTO audit_anchors VALUES ('ro', 3, 'x', '2026-01-01T00:00:00.000Z')"),
    ).rejects.toThrow(/written only through retention/)
  })

  it('refuses re-inserting a pruned seq', async () => {
    await store().prune('ro', new Date(Date.now() + 60_000))
    const again = sampleInput({ tenantId: 'ro' })
    await expect(
      store().client.execute({
        sql: `INSERT INTO audit_records (event_id, chain, seq, type, version, action, source, occurred_at, occurred_ms,
              received_at, payload, prev_hash, hash) VALUES (?, 'ro', 2, 't.x', 1, 'x', 's', ?, 0, ?, '{}', 'p', 'h')`,
        args: [again.eventId, again.occurredAt, again.receivedAt],
      }),
    ).rejects.toThrow(/seq already pruned/)
  })
})

describe('libSQL store: the trigger refusing a seq below an anchor comes with the first anchor', () => {
  const opened: { cleanup(): Promise<void> }[] = []
  afterAll(() => Promise.all(opened.map((h) => h.cleanup())))
  const harness = async () => {
    const h = await tempStore()
    opened.push(h)
    return h
  }
  const hasTrigger = async (client: Client) =>
    (
      await client.execute({
        sql: "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        args: [NO_INSERT_BELOW_ANCHOR_TRIGGER],
      })
    ).rows.length > 0
  // A record row written by hand (no hashing): what anything that reaches the file could insert.
  const RAW_INSERT = `INSERT INTO audit_records (event_id, chain, seq, type, version, action, source, occurred_at,
    occurred_ms, received_at, payload, prev_hash, hash) VALUES (?, ?, ?, 't.x', 1, 'x', 's', ?, 0, ?, '{}', 'p', 'h')`
  const rawArgs = (chain: string, seq: number) => {
    const at = '2026-01-01T00:00:00.000Z'
    return [crypto.randomUUID(), chain, seq, at, at]
  }
  const later = () => new Date(Date.now() + 60_000)

  it('is absent on a fresh database and created by the first prune, in the prune transaction', async () => {
    const store = await (await harness()).open()
    try {
      expect(await hasTrigger(store.client)).toBe(false)
      await store.append([1, 2, 3].map(() => sampleInput({ tenantId: 'p' })))
      expect(await hasTrigger(store.client)).toBe(false)
      expect(await store.prune('p', later())).toMatchObject({ seq: 3 })
      expect(await hasTrigger(store.client)).toBe(true)
      await expect(store.client.execute({ sql: RAW_INSERT, args: rawArgs('p', 2) })).rejects.toThrow(
        /seq already pruned/,
      )
      // A prune that fails rolls the trigger back with its anchor.
      const other = await (await harness()).open()
      try {
        await other.append([sampleInput({ tenantId: 'q' })])
        await expect(
          other.prune('q', later(), {
            beforeDelete: () => {
              throw new Error('kept nowhere')
            },
          }),
        ).rejects.toThrow(/kept nowhere/)
        expect(await hasTrigger(other.client)).toBe(false)
        expect(await other.anchor('q')).toBeNull()
      } finally {
        await other.close()
      }
    } finally {
      await store.close()
    }
  })

  it('refuses an anchor written without the trigger, even in retention mode', async () => {
    const store = await (await harness()).open()
    try {
      await store.append([sampleInput({ tenantId: 'a' })])
      const tx = await store.client.transaction('write')
      try {
        await tx.execute('INSERT INTO audit_retention_mode (id) VALUES (1)')
        await expect(
          tx.execute("INSERT INTO audit_anchors VALUES ('a', 1, 'x', '2026-01-01T00:00:00.000Z')"),
        ).rejects.toThrow(/written only through retention/)
      } finally {
        await tx.rollback()
      }
    } finally {
      await store.close()
    }
  })

  it('reaches statements another connection prepared before the prune', async () => {
    const h = await harness()
    const appending = await h.open()
    const pruning = await h.open()
    const driver = new Database(h.url.slice('file:'.length))
    try {
      const insert = driver.prepare(RAW_INSERT)
      insert.run(rawArgs('d', 1))
      insert.run(rawArgs('d', 2))
      await appending.append([sampleInput({ tenantId: 'e' })])
      expect(await pruning.prune('d', later())).toMatchObject({ seq: 2 })
      // The same prepared statement now meets the trigger; the store's own append connection goes on.
      expect(() => insert.run(rawArgs('d', 2))).toThrow(/seq already pruned/)
      insert.run(rawArgs('d', 3))
      const result = await appending.append([sampleInput({ tenantId: 'e' })])
      expect(result.appended.map((r) => r.seq)).toEqual([2])
    } finally {
      driver.close()
      await pruning.close()
      await appending.close()
    }
  })

  it('stays on a database migrated from before the change that already holds an anchor, and goes where none', async () => {
    for (const anchored of [true, false]) {
      const h = await harness()
      const client = createClient({ url: h.url })
      await migrate(client, AUDIT_MIGRATIONS.slice(0, 1))
      await client.execute({ sql: RAW_INSERT, args: rawArgs('old', 1) })
      if (anchored)
        await client.batch([
          'INSERT INTO audit_retention_mode (id) VALUES (1)',
          "INSERT INTO audit_anchors VALUES ('old', 1, 'h', '2026-01-01T00:00:00.000Z')",
          "DELETE FROM audit_records WHERE chain = 'old'",
          'DELETE FROM audit_retention_mode',
        ])
      client.close()
      const store = await h.open()
      try {
        expect(await hasTrigger(store.client)).toBe(anchored)
        const below = store.client.execute({ sql: RAW_INSERT, args: rawArgs('old', 1) })
        if (anchored) await expect(below).rejects.toThrow(/seq already pruned/)
        else await expect(below).rejects.toThrow(/UNIQUE constraint failed/)
      } finally {
        await store.close()
      }
    }
  })
})
