import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AnyEvent } from '@flotilla/contracts'
import { TEST_REDIS_URL } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import { createRedisAnchors } from '../chain/checkpoints.ts'
import { createRecordEventHandler } from '../handlers/record-event.ts'
import { sampleEvent } from '../records/sample.ts'
import { parseRetentionOverrides, retentionDaysFor } from '../retention/policy.ts'
import { createLibsqlStore } from '../store/libsql/store.ts'
import { runCheckpoints } from './checkpoint.ts'

const redis = new Redis(TEST_REDIS_URL)
const prefix = `test:audit:${crypto.randomUUID()}:`
const dir = await mkdtemp(join(tmpdir(), 'audit-jobs-'))

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
  await rm(dir, { recursive: true, force: true })
})

describe('checkpoint job', () => {
  it('anchors each moved head once, records its own checkpoints, and never loops on them', async () => {
    const store = await createLibsqlStore({ url: `file:${join(dir, 'cp.db')}` })
    const anchors = createRedisAnchors(redis, `${prefix}cp:`)
    const handler = createRecordEventHandler({ store })
    const ingest = (events: AnyEvent[]) =>
      handler.handleBatch(events.map((event, i) => ({ streamId: `${i}-0`, event })))
    const published: AnyEvent[] = []
    const run = () => runCheckpoints({ store, anchors, publish: async (e) => published.push(e) })
    try {
      await ingest([sampleEvent('acme', 1), sampleEvent('acme', 2), sampleEvent(undefined, 3)])
      expect(await run()).toEqual([
        { chain: 'acme', seq: 2, hash: (await store.head('acme'))!.hash },
        { chain: 'global', seq: 1, hash: (await store.head('global'))!.hash },
      ])
      expect(published.map((e) => [e.type, e.tenantId, e.source])).toEqual([
        ['audit.checkpoint', 'acme', 'audit'],
        ['audit.checkpoint', undefined, 'audit'],
      ])
      expect(await anchors.lastCheckpoint('acme')).toMatchObject({ seq: 2 })
      // Not yet consumed: the head has not moved since, so nothing new.
      expect(await run()).toEqual([])
      // Consumed: each checkpoint became the head of its own chain; still nothing new.
      await ingest(published.splice(0))
      expect(await store.head('acme')).toMatchObject({ seq: 3, type: 'audit.checkpoint' })
      expect(await run()).toEqual([])
      // Real activity moves the head again.
      await ingest([sampleEvent('acme', 4)])
      expect((await run()).map((c) => [c.chain, c.seq])).toEqual([['acme', 4]])
    } finally {
      await store.close()
    }
  })

  it('keeps the highest checkpoint when an older one arrives late', async () => {
    const anchors = createRedisAnchors(redis, `${prefix}order:`)
    await anchors.saveCheckpoint({ chain: 'c', seq: 9, hash: 'a'.repeat(64) })
    await anchors.saveCheckpoint({ chain: 'c', seq: 4, hash: 'b'.repeat(64) })
    expect(await anchors.lastCheckpoint('c')).toEqual({ chain: 'c', seq: 9, hash: 'a'.repeat(64) })
  })
})

describe('retention policy', () => {
  it('parses per-tenant overrides and falls back to the default', () => {
    const overrides = parseRetentionOverrides(' tenantA:365, tenantB:7 ,global:0')
    expect([...overrides]).toEqual([
      ['tenantA', 365],
      ['tenantB', 7],
      ['global', 0],
    ])
    expect(retentionDaysFor({ defaultDays: 30, overrides }, 'tenantB')).toBe(7)
    expect(retentionDaysFor({ defaultDays: 30, overrides }, 'other')).toBe(30)
    expect(parseRetentionOverrides('')).toEqual(new Map())
  })

  it('refuses malformed overrides, naming the entry', () => {
    for (const bad of ['tenantA', 'tenantA:x', ':5', 'a:-1', 'a:1.5']) {
      expect(() => parseRetentionOverrides(bad)).toThrow(/retention override/)
    }
  })
})
