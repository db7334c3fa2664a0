/**
 * The audit store conformance suite: one set of behaviours every AuditStore must show. Each store's test
 * file calls it with a harness that opens handles onto one fresh, empty store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { hashRecord } from '../records/hash.ts'
import { GENESIS_HASH, type RecordInput } from '../records/model.ts'
import { sampleInput } from '../records/sample.ts'
import { describeAnalyticsConformance } from './conformance-analytics.ts'
import type { AuditStore, RecordFilter } from './types.ts'

export interface StoreHarness {
  /** Opens another handle (another connection pool / client) onto the same store. */
  open(): Promise<AuditStore>
  /** Removes everything the harness created. */
  cleanup(): Promise<void>
}

/**
 * Registers, in the enclosing describe block, a store opened from a fresh harness before its tests (then
 * seeded by `seed`), closed and cleaned up after them; returns the getter the tests read it with.
 * @example const store = useHarnessStore(createTestDatabase, (s) => s.append(inputs))
 */
export const useHarnessStore = <S extends AuditStore>(
  makeHarness: () => Promise<{ open(): Promise<S>; cleanup(): Promise<void> }>,
  seed: (store: S) => Promise<unknown> = async () => {},
): (() => S) => {
  let harness: { cleanup(): Promise<void> } | undefined
  let store: S | undefined
  beforeAll(async () => {
    const opened = await makeHarness()
    harness = opened
    store = await opened.open()
    await seed(store)
  })
  afterAll(async () => {
    await store?.close()
    await harness?.cleanup()
  })
  return () => {
    if (!store) throw new Error('the store opens in beforeAll')
    return store
  }
}

const idsOf = (records: { eventId: string }[]) => records.map((r) => r.eventId)

/** Registers the conformance suite for one store implementation. */
export const describeStoreConformance = (
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  options: { skip?: boolean } = {},
) => {
  describe.skipIf(options.skip ?? false)(`AuditStore conformance: ${name}`, () => {
    let harness: StoreHarness
    let store: AuditStore
    const tenant = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`

    beforeAll(async () => {
      harness = await makeHarness()
      store = await harness.open()
    })
    afterAll(async () => {
      await store?.close()
      await harness?.cleanup()
    })

    it('chains each tenant from seq 1 with prevHash linking every record to the one before', async () => {
      const a = tenant('a')
      const b = tenant('b')
      const inputs = [a, b, a, a, b].map((tenantId) => sampleInput({ tenantId }))
      const { appended, duplicates } = await store.append(inputs)
      expect(duplicates).toEqual([])
      expect(appended.map((r) => [r.chain, r.seq])).toEqual([
        [a, 1],
        [b, 1],
        [a, 2],
        [a, 3],
        [b, 2],
      ])
      const chainA = await store.chainRecords(a, 0, 100)
      expect(chainA.map((r) => r.seq)).toEqual([1, 2, 3])
      expect(chainA[0]?.prevHash).toBe(GENESIS_HASH)
      expect(chainA[1]?.prevHash).toBe(chainA[0]?.hash as string)
      expect(chainA[2]?.prevHash).toBe(chainA[1]?.hash as string)
      for (const r of chainA) expect(hashRecord(r)).toBe(r.hash)
      expect(await store.head(a)).toMatchObject({ chain: a, seq: 3, hash: chainA[2]?.hash as string })
    })

    it('puts events without a tenant on the global chain', async () => {
      const [record] = (await store.append([sampleInput({ tenantId: null })])).appended
      expect(record?.chain).toBe('global')
      expect(await store.recordAt('global', record?.seq as number)).toEqual(record as never)
    })

    it('returns stored records exactly as appended (payload, nulls, hash)', async () => {
      const input = sampleInput({
        tenantId: tenant('exact'),
        payload: { nested: { z: 1, a: [1, 'two', null, true] }, unicode: 'é✓' },
        correlationId: 'c-1',
        actorType: null,
        actorId: null,
      })
      const [record] = (await store.append([input])).appended
      const stored = await store.recordAt(record?.chain as string, 1)
      expect(stored).toEqual(record as never)
      expect(hashRecord(stored as never)).toBe(record?.hash as string)
    })

    it('skips events already recorded and repeats inside one batch', async () => {
      const t = tenant('dup')
      const first = sampleInput({ tenantId: t })
      const second = sampleInput({ tenantId: t })
      await store.append([first])
      const result = await store.append([first, second, second])
      expect(idsOf(result.appended)).toEqual([second.eventId])
      expect(result.duplicates).toEqual([first.eventId, second.eventId])
      expect((await store.chainRecords(t, 0, 10)).map((r) => r.seq)).toEqual([1, 2])
    })

    it('never duplicates nor forks a chain when several writers race on the same events', async () => {
      const t = tenant('race')
      const inputs: RecordInput[] = Array.from({ length: 60 }, () => sampleInput({ tenantId: t }))
      const others = await Promise.all([harness.open(), harness.open(), harness.open()])
      try {
        // Every writer tries every event, in overlapping batches of different sizes.
        await Promise.all(
          [store, ...others].map(async (writer, w) => {
            const size = 5 + w * 3
            for (let i = 0; i < inputs.length; i += size) await writer.append(inputs.slice(i, i + size))
          }),
        )
      } finally {
        await Promise.all(others.map((o) => o.close()))
      }
      const chain = await store.chainRecords(t, 0, 1000)
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
      expect(new Set(idsOf(chain)).size).toBe(60)
      for (let i = 1; i < chain.length; i++) expect(chain[i]?.prevHash).toBe(chain[i - 1]?.hash as string)
    })

    describe('search', () => {
      const t = `search-${crypto.randomUUID().slice(0, 8)}`
      const base = Date.UTC(2025, 5, 1)
      const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString()
      beforeAll(async () => {
        await store.append([
          sampleInput({
            tenantId: t,
            type: 'user.registered',
            occurredAt: at(1),
            actorId: 'alice',
            correlationId: 'k1',
          }),
          sampleInput({
            tenantId: t,
            type: 'user.deleted',
            occurredAt: at(2),
            actorId: 'bob',
            actorType: 'admin',
          }),
          sampleInput({
            tenantId: t,
            type: 'userx.thing',
            occurredAt: at(3),
            actorId: 'alice',
            subjectId: 's9',
          }),
          sampleInput({
            tenantId: t,
            type: 'order.placed',
            occurredAt: at(4),
            actorId: 'carol',
            source: 'shop',
          }),
          // Same instant as the previous one: the event id breaks the tie.
          sampleInput({
            tenantId: t,
            type: 'order.placed',
            occurredAt: at(4),
            actorId: null,
            actorType: null,
          }),
          // A coarser timestamp string still sorts by time, not by text.
          sampleInput({ tenantId: t, type: 'order.paid', occurredAt: at(5).replace('.000Z', 'Z') }),
        ])
        await store.append([
          sampleInput({ tenantId: `${t}-other`, type: 'user.registered', occurredAt: at(1) }),
        ])
      })
      const types = async (filter: RecordFilter) =>
        (await store.list({ tenantId: t, ...filter }, { limit: 100 })).records.map((r) => r.type)

      it('lists newest first and keeps to the tenant', async () => {
        expect(await types({})).toEqual([
          'order.paid',
          'order.placed',
          'order.placed',
          'userx.thing',
          'user.deleted',
          'user.registered',
        ])
      })
      it('filters on exact type and on a type prefix', async () => {
        expect(await types({ type: 'user.deleted' })).toEqual(['user.deleted'])
        expect(await types({ typePrefix: 'user.' })).toEqual(['user.deleted', 'user.registered'])
        expect(await types({ typePrefix: 'order.' })).toEqual(['order.paid', 'order.placed', 'order.placed'])
      })
      it('filters on actor, actor type, subject and correlation id', async () => {
        expect(await types({ actorId: 'alice' })).toEqual(['userx.thing', 'user.registered'])
        expect(await types({ actorType: 'admin' })).toEqual(['user.deleted'])
        expect(await types({ subjectId: 's9' })).toEqual(['userx.thing'])
        expect(await types({ correlationId: 'k1' })).toEqual(['user.registered'])
      })
      it('filters on a time range, from inclusive and to exclusive', async () => {
        expect(await types({ from: new Date(at(2)), to: new Date(at(4)) })).toEqual([
          'userx.thing',
          'user.deleted',
        ])
      })
      it('pages by keyset without overlap or gap', async () => {
        const seen: string[] = []
        let after: Parameters<AuditStore['list']>[1]['after']
        for (let i = 0; i < 10; i++) {
          const page = await store.list({ tenantId: t }, { limit: 2, ...(after ? { after } : {}) })
          seen.push(...idsOf(page.records))
          if (!page.next) break
          after = page.next
        }
        const all = await store.list({ tenantId: t }, { limit: 100 })
        expect(seen).toEqual(idsOf(all.records))
        expect(seen).toHaveLength(6)
      })
      it('counts and groups by type, actor and source', async () => {
        expect(await store.count({ tenantId: t })).toBe(6)
        expect(await store.stats({ tenantId: t }, 'type')).toEqual([
          { key: 'order.placed', count: 2 },
          { key: 'order.paid', count: 1 },
          { key: 'user.deleted', count: 1 },
          { key: 'user.registered', count: 1 },
          { key: 'userx.thing', count: 1 },
        ])
        const actors = await store.stats({ tenantId: t, typePrefix: 'order.' }, 'actor')
        expect(actors).toContainEqual({ key: '(none)', count: 1 })
        expect(actors).toContainEqual({ key: 'user:carol', count: 1 })
        expect(await store.stats({ tenantId: t }, 'source')).toEqual([
          { key: 'monolith', count: 5 },
          { key: 'shop', count: 1 },
        ])
      })
    })

    describeAnalyticsConformance(() => store)

    describe('retention', () => {
      it('deletes the oldest prefix, anchors the last pruned record and keeps appending after it', async () => {
        const t = tenant('ret')
        const old = new Date(Date.UTC(2020, 0, 1)).toISOString()
        const inputs = [old, old, old, new Date().toISOString()].map((receivedAt) =>
          sampleInput({ tenantId: t, receivedAt }),
        )
        const { appended } = await store.append(inputs)
        const anchor = await store.prune(t, new Date(Date.UTC(2021, 0, 1)))
        expect(anchor).toMatchObject({ chain: t, seq: 3, hash: appended[2]?.hash as string })
        expect((await store.chainRecords(t, 0, 10)).map((r) => r.seq)).toEqual([4])
        expect(await store.anchor(t)).toMatchObject({ seq: 3 })
        expect(await store.prune(t, new Date(Date.UTC(2021, 0, 1)))).toBeNull()

        // Everything pruned: the head is the anchor and the chain goes on from it.
        const all = await store.prune(t, new Date(Date.now() + 60_000))
        expect(all).toMatchObject({ seq: 4, hash: appended[3]?.hash as string })
        expect(await store.head(t)).toMatchObject({ seq: 4, hash: appended[3]?.hash as string })
        const [next] = (await store.append([sampleInput({ tenantId: t })])).appended
        expect(next).toMatchObject({ seq: 5, prevHash: appended[3]?.hash as string })
        expect(await store.chains()).toContain(t)

        // A replay of a pruned event is still a duplicate: it never comes back as a new record.
        const replay = await store.append([inputs[0] as RecordInput, inputs[3] as RecordInput])
        expect(replay.appended).toEqual([])
        expect(replay.duplicates).toEqual([inputs[0]?.eventId as string, inputs[3]?.eventId as string])
      })

      it('keeps the anchor outside before deleting, and prunes nothing when that fails', async () => {
        const t = tenant('hook')
        const old = new Date(Date.UTC(2020, 0, 1)).toISOString()
        const { appended } = await store.append(
          [old, old].map((receivedAt) => sampleInput({ tenantId: t, receivedAt })),
        )
        const cutoff = new Date(Date.UTC(2021, 0, 1))
        await expect(
          store.prune(t, cutoff, {
            beforeDelete: async () => {
              throw new Error('redis is down')
            },
          }),
        ).rejects.toThrow('redis is down')
        expect((await store.chainRecords(t, 0, 10)).map((r) => r.seq)).toEqual([1, 2])
        expect(await store.anchor(t)).toBeNull()

        const seen: unknown[] = []
        const anchor = await store.prune(t, cutoff, {
          beforeDelete: async (a) => {
            // Called before the delete: the records are still there.
            seen.push(a, (await store.chainRecords(t, 0, 10)).length)
          },
        })
        expect(seen).toEqual([anchor, 2])
        expect(anchor).toMatchObject({ seq: 2, hash: appended[1]?.hash as string })
      })

      it('prunes nothing when every record is recent', async () => {
        const t = tenant('fresh')
        await store.append([sampleInput({ tenantId: t })])
        expect(await store.prune(t, new Date(Date.UTC(2000, 0, 1)))).toBeNull()
        expect(await store.anchor(t)).toBeNull()
      })
    })

    it('reports no head for a chain never written', async () => {
      expect(await store.head(tenant('none'))).toBeNull()
    })
  })
}
