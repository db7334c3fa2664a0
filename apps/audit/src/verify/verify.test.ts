import { afterAll, afterEach, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AnyEvent } from '@flotilla/contracts'
import { TEST_REDIS_URL } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import { createRedisAnchors } from '../chain/checkpoints.ts'
import { createRecordEventHandler } from '../handlers/record-event.ts'
import { runCheckpoints } from '../jobs/checkpoint.ts'
import { hashRecord } from '../records/hash.ts'
import { sampleEvent } from '../records/sample.ts'
import { runRetention } from '../retention/service.ts'
import { createLibsqlStore } from '../store/libsql/store.ts'
import { verifyChain } from './service.ts'

const redis = new Redis(TEST_REDIS_URL)
const prefix = `test:audit:${crypto.randomUUID()}:`
const anchors = createRedisAnchors(redis, prefix)
const dirs: string[] = []
const stores: { close(): Promise<void> }[] = []

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()))
})
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
})

/** A fresh store holding one chain of `n` records, written through the event handler in batches. */
const chainOf = async (n: number) => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-verify-'))
  dirs.push(dir)
  const store = await createLibsqlStore({ url: `file:${join(dir, 'audit.db')}` })
  stores.push(store)
  const tenant = `t-${crypto.randomUUID().slice(0, 8)}`
  const handler = createRecordEventHandler({ store })
  const ingest = (events: AnyEvent[]) =>
    handler.handleBatch(events.map((event, i) => ({ streamId: `${i}-0`, event })))
  for (let i = 0; i < n; i += 10) {
    await ingest(Array.from({ length: Math.min(10, n - i) }, (_, k) => sampleEvent(tenant, i + k)))
  }
  const sql = async (statement: string, args: (string | number)[] = []) =>
    store.client.execute({ sql: statement, args })
  const dropTriggers = () =>
    store.client.executeMultiple(`
      DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_delete_only_by_retention;
      DROP TRIGGER audit_anchors_update_forward_only;`)
  const eventIdAt = async (seq: number) => (await store.recordAt(tenant, seq))?.eventId
  const verify = () => verifyChain({ store, anchors, pageSize: 16 }, tenant)
  return { store, tenant, ingest, sql, dropTriggers, eventIdAt, verify }
}

describe('verify', () => {
  it('passes an untouched chain and reports its head', async () => {
    const c = await chainOf(50)
    const head = await c.store.head(c.tenant)
    expect(await c.verify()).toEqual({
      ok: true,
      chain: c.tenant,
      checked: 50,
      head: { seq: 50, hash: head?.hash as string },
      checkpoints: 0,
    })
  })

  it('names the exact record whose content was edited', async () => {
    const c = await chainOf(50)
    await c.dropTriggers()
    await c.sql(`UPDATE audit_records SET payload = '{"n":17,"amount":0}' WHERE chain = ? AND seq = 17`, [
      c.tenant,
    ])
    expect((await c.verify()).brokenAt).toEqual({
      seq: 17,
      eventId: (await c.eventIdAt(17)) as string,
      reason: 'hash_mismatch',
      message: expect.any(String),
    })
  })

  it('names the record after an edit whose hash was recomputed (its link no longer matches)', async () => {
    const c = await chainOf(50)
    await c.dropTriggers()
    const r = await c.store.recordAt(c.tenant, 20)
    const forged = { ...r!, actorId: 'someone-else' }
    await c.sql('UPDATE audit_records SET actor_id = ?, hash = ? WHERE chain = ? AND seq = 20', [
      'someone-else',
      hashRecord(forged),
      c.tenant,
    ])
    const result = await c.verify()
    expect(result.ok).toBe(false)
    expect(result.brokenAt).toMatchObject({ seq: 21, reason: 'prev_hash_mismatch' })
  })

  it('names the exact record that was deleted', async () => {
    const c = await chainOf(50)
    await c.dropTriggers()
    await c.sql('DELETE FROM audit_records WHERE chain = ? AND seq = 23', [c.tenant])
    expect((await c.verify()).brokenAt).toMatchObject({ seq: 23, eventId: null, reason: 'record_missing' })
  })

  it('names the first of two records that were swapped', async () => {
    const c = await chainOf(50)
    await c.dropTriggers()
    await c.sql('UPDATE audit_records SET seq = 1000000 WHERE chain = ? AND seq = 30', [c.tenant])
    await c.sql('UPDATE audit_records SET seq = 30 WHERE chain = ? AND seq = 31', [c.tenant])
    await c.sql('UPDATE audit_records SET seq = 31 WHERE chain = ? AND seq = 1000000', [c.tenant])
    expect((await c.verify()).brokenAt).toMatchObject({ seq: 30, reason: 'prev_hash_mismatch' })
  })

  it('detects a truncated tail against the last checkpoint, and only thanks to it', async () => {
    const c = await chainOf(50)
    await c.dropTriggers()
    await c.sql('DELETE FROM audit_records WHERE chain = ? AND seq > 47', [c.tenant])
    // Without an anchor outside the store, a cut tail looks like a shorter chain.
    expect((await c.verify()).ok).toBe(true)

    const d = await chainOf(50)
    await runCheckpoints({ store: d.store, anchors, publish: async () => undefined })
    await d.dropTriggers()
    await d.sql('DELETE FROM audit_records WHERE chain = ? AND seq > 44', [d.tenant])
    expect((await d.verify()).brokenAt).toMatchObject({ seq: 45, eventId: null, reason: 'truncated' })
  })

  it('detects a chain rewritten consistently after a checkpoint recorded inside it', async () => {
    const c = await chainOf(30)
    const published: AnyEvent[] = []
    await runCheckpoints({
      store: c.store,
      anchors: createRedisAnchors(redis, `${prefix}other:`),
      publish: async (e) => published.push(e),
    })
    await c.ingest(published) // the checkpoint event becomes seq 31 of the chain
    expect((await c.verify()).checkpoints).toBe(1)
    // Rewrite seq 10..31 with fresh hashes so every link matches again.
    await c.dropTriggers()
    let prev = (await c.store.recordAt(c.tenant, 9))!.hash
    for (let seq = 10; seq <= 31; seq++) {
      const r = (await c.store.recordAt(c.tenant, seq))!
      const forged = { ...r, prevHash: prev, payload: seq === 10 ? { forged: true } : r.payload }
      const hash = hashRecord(forged)
      await c.sql(
        'UPDATE audit_records SET payload = ?, prev_hash = ?, hash = ? WHERE chain = ? AND seq = ?',
        [JSON.stringify(forged.payload), prev, hash, c.tenant, seq],
      )
      prev = hash
    }
    expect((await c.verify()).brokenAt).toMatchObject({ seq: 30, reason: 'checkpoint_mismatch' })
  })

  it('verifies from the retention anchor after pruning, and notices a moved anchor', async () => {
    const c = await chainOf(40)
    const later = new Date(Date.now() + 400 * 86_400_000)
    const policy = { defaultDays: 0, overrides: new Map([[c.tenant, 1]]) }
    await c.ingest([sampleEvent(c.tenant, 99)])
    const [anchor] = await runRetention({ store: c.store, policy, anchors, now: () => later })
    expect(anchor).toMatchObject({ chain: c.tenant, seq: 41 })
    await c.ingest([sampleEvent(c.tenant, 100), sampleEvent(c.tenant, 101)])
    expect(await c.verify()).toMatchObject({ ok: true, checked: 2, head: { seq: 43 } })

    // A prune that died after keeping its anchor outside but before deleting: the copy outside is ahead of
    // the store, which verify reads as a checkpoint, not as tampering.
    await anchors.savePruned({ chain: c.tenant, seq: 42, hash: (await c.store.recordAt(c.tenant, 42))!.hash })
    expect(await c.verify()).toMatchObject({ ok: true, checked: 2, checkpoints: 1 })

    // Moved forward by hand past the anchor kept outside (42): record 43 would vanish unnoticed otherwise.
    await c.dropTriggers()
    await c.sql('INSERT INTO audit_retention_mode (id) VALUES (1)')
    await c.sql(
      'UPDATE audit_anchors SET seq = 43, hash = (SELECT hash FROM audit_records WHERE chain = ? AND seq = 43) WHERE chain = ?',
      [c.tenant, c.tenant],
    )
    await c.sql('DELETE FROM audit_records WHERE chain = ? AND seq IN (42, 43)', [c.tenant])
    expect((await c.verify()).brokenAt).toMatchObject({ seq: 43, reason: 'anchor_mismatch' })
  })
})
