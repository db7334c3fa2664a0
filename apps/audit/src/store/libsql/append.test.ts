import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { drizzle } from 'drizzle-orm/libsql'
import { recordInputOf } from '../../records/from-event.ts'
import { hashRecord } from '../../records/hash.ts'
import { GENESIS_HASH, type RecordInput } from '../../records/model.ts'
import { sampleEvent, sampleInput } from '../../records/sample.ts'
import { verifyChain } from '../../verify/service.ts'
import { toRow } from './append.ts'
import { AUDIT_MIGRATIONS } from './migrations.ts'
import { auditRecords } from './schema.ts'
import { createLibsqlStore } from './store.ts'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

const freshUrl = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-append-'))
  dirs.push(dir)
  return `file:${join(dir, 'audit.db')}`
}

/** Every stored value with its SQLite storage class, in a fixed order. */
const STORED = `SELECT *, ${[
  'seq',
  'version',
  'occurred_ms',
  'tenant_id',
  'actor_id',
  'payload',
  'causation_id',
]
  .map((c) => `typeof(${c}) AS type_of_${c}`)
  .join(', ')} FROM audit_records ORDER BY event_id`

describe('libSQL append', () => {
  it('writes every column exactly as drizzle’s insert of the same records writes it', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const inputs: RecordInput[] = [
      sampleInput({ tenantId: 'cols' }),
      sampleInput({
        tenantId: null,
        actorType: null,
        actorId: null,
        subjectType: null,
        subjectId: null,
        correlationId: 'c-1',
        causationId: 'c-0',
        payload: { nested: { z: 1, a: [1, 'two', null, true] }, unicode: 'é✓😀', quote: '"\\\n' },
      }),
      sampleInput({ tenantId: 'cols', version: 7, occurredAt: '2026-01-01T00:00:00Z', payload: {} }),
    ]
    const { appended } = await store.append(inputs)

    // The same records through drizzle's insert builder, into another fresh database.
    const reference = createClient({ url: await freshUrl() })
    await migrate(reference, AUDIT_MIGRATIONS)
    await drizzle(reference).insert(auditRecords).values(appended.map(toRow))

    const ours = (await store.client.execute(STORED)).rows
    const theirs = (await reference.execute(STORED)).rows
    expect(ours).toHaveLength(3)
    expect(ours.map((r) => ({ ...r }))).toEqual(theirs.map((r) => ({ ...r })))
    expect(ours.map((r) => r.type_of_occurred_ms)).toEqual(['integer', 'integer', 'integer'])
    reference.close()
    await store.close()
  })

  it('chains a batch larger than one INSERT statement across chains, skipping duplicates, and it verifies', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const tenants = ['big-a', 'big-b', null]
    const first = Array.from({ length: 150 }, (_, i) => sampleInput({ tenantId: tenants[i % 3] ?? null }))
    await store.append(first)
    // 450 new events (three INSERT statements), with already-recorded ids and in-batch repeats among them.
    const fresh = Array.from({ length: 450 }, (_, i) => sampleInput({ tenantId: tenants[i % 3] ?? null }))
    const batch = fresh.flatMap((input, i) =>
      i % 50 === 0 ? [input, first[i / 50] as RecordInput, input] : [input],
    )
    const { appended, duplicates } = await store.append(batch)
    expect(appended.map((r) => r.eventId)).toEqual(fresh.map((i) => i.eventId))
    expect(duplicates).toHaveLength(18)

    for (const chain of ['big-a', 'big-b', 'global']) {
      const records = await store.chainRecords(chain, 0, 1000)
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      expect(records[0]?.prevHash).toBe(GENESIS_HASH)
      for (let i = 1; i < records.length; i++)
        expect(records[i]?.prevHash).toBe(records[i - 1]?.hash as string)
      for (const r of records) expect(hashRecord(r)).toBe(r.hash)
      expect(await verifyChain({ store }, chain)).toMatchObject({ ok: true, checked: 200 })
    }
    expect(await store.chains()).toEqual(['big-a', 'big-b', 'global'])
    await store.close()
  })

  it('reads a batch of more events and chains than one read statement holds', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const tenants = Array.from({ length: 600 }, (_, i) => `many-${i}`)
    const first = tenants.map((tenantId) => sampleInput({ tenantId }))
    await store.append(first)
    const second = tenants.map((tenantId) => sampleInput({ tenantId }))
    // 1,200 distinct ids and 600 chains, the first batch's ids among them again.
    const { appended, duplicates } = await store.append([...first, ...second])
    expect(duplicates).toEqual(first.map((i) => i.eventId))
    expect(appended.map((r) => [r.chain, r.seq])).toEqual(tenants.map((t) => [t, 2]))
    for (const t of [tenants[0], tenants[499], tenants[500], tenants[599]] as string[]) {
      expect(await verifyChain({ store }, t)).toMatchObject({ ok: true, checked: 2 })
    }
    await store.close()
  })

  it('finds the head of a chain whose name SQLite stores differently than sent (a lone surrogate)', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const input = sampleInput({ tenantId: 'odd \ud800 tenant' })
    expect((await store.append([input])).appended.map((r) => r.seq)).toEqual([1])
    const again = await store.append([input, sampleInput({ tenantId: input.tenantId })])
    expect(again.duplicates).toEqual([input.eventId])
    expect(again.appended.map((r) => r.seq)).toEqual([2])
    await store.close()
  })

  it('verifies a chain whose event carried lone surrogates in its text fields and payload', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const event = sampleEvent('odd \ud800 tenant', 1)
    const odd = {
      ...event,
      actor: { type: 'user', id: 'actor \udc00' },
      payload: { ...event.payload, note: 'half \ud83d pair' },
    }
    const input = recordInputOf(odd, new Date())
    expect(input.tenantId).toBe('odd \ufffd tenant')
    const [record] = (await store.append([input])).appended
    expect(record?.chain).toBe('odd \ufffd tenant')
    expect(await verifyChain({ store }, 'odd \ufffd tenant')).toMatchObject({ ok: true, checked: 1 })
    await store.close()
  })

  it('records an id once when a batch repeats it under two tenants', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const input = sampleInput({ tenantId: 'twice-a' })
    const { appended, duplicates } = await store.append([input, { ...input, tenantId: 'twice-b' }])
    expect(appended.map((r) => r.chain)).toEqual(['twice-a'])
    expect(duplicates).toEqual([input.eventId])
    await store.close()
  })

  it('writes nothing of a batch whose insert fails, not even its new chain', async () => {
    const store = await createLibsqlStore({ url: await freshUrl() })
    const good = sampleInput({ tenantId: 'atomic' })
    const bad = { ...sampleInput({ tenantId: 'atomic' }), type: null } as unknown as RecordInput
    await expect(store.append([good, bad])).rejects.toThrow(/NOT NULL/)
    expect(await store.count({})).toBe(0)
    expect(await store.chains()).toEqual([])

    const { appended } = await store.append([good])
    expect(appended.map((r) => [r.seq, r.prevHash])).toEqual([[1, GENESIS_HASH]])
    expect(await store.chains()).toEqual(['atomic'])
    await store.close()
  })
})
