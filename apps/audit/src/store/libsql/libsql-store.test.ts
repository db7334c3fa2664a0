import { describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sampleInput } from '../../records/sample.ts'
import { describeStoreConformance, useHarnessStore } from '../conformance.ts'
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
