import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { runCheckpoints } from '../jobs/checkpoint.ts'
import { sampleEvent } from '../records/sample.ts'
import { createTestApp, type TestApp } from '../testing.ts'

let t: TestApp
let token: string
beforeAll(async () => {
  t = await createTestApp()
  token = await t.serviceToken()
  await t.ingest(Array.from({ length: 12 }, (_, i) => sampleEvent('vr', i)))
  await t.ingest([sampleEvent(undefined, 99)])
})
afterAll(() => t.close())

describe('GET /v1/audit/verify', () => {
  it('reports an intact chain with its head', async () => {
    const head = await t.store.head('vr')
    const res = await t.get('/v1/audit/verify?tenantId=vr', token)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      ok: true,
      chain: 'vr',
      checked: 12,
      head: { seq: 12, hash: head!.hash },
      checkpoints: 0,
    })
  })

  it('verifies the global chain when a service names no tenant', async () => {
    expect(await (await t.get('/v1/audit/verify', token)).json()).toMatchObject({
      ok: true,
      chain: 'global',
      checked: 1,
    })
  })

  it('gives a user the verification of their own tenant', async () => {
    const res = await t.get('/v1/audit/verify', await t.userToken({ tenantId: 'vr' }))
    expect(await res.json()).toMatchObject({ ok: true, chain: 'vr', checked: 12 })
  })

  it('names where a truncated tail begins once the head was checkpointed', async () => {
    await runCheckpoints({ store: t.store, anchors: t.anchors, publish: async () => undefined })
    await t.store.client.executeMultiple('DROP TRIGGER audit_records_delete_only_by_retention')
    await t.store.client.execute("DELETE FROM audit_records WHERE chain = 'vr' AND seq >= 11")
    const body = await (await t.get('/v1/audit/verify?tenantId=vr', token)).json()
    expect(body).toMatchObject({
      ok: false,
      checked: 10,
      head: { seq: 10 },
      brokenAt: { seq: 11, eventId: null, reason: 'truncated' },
    })
  })
})
