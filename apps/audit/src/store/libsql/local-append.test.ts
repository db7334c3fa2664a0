import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '@flotilla/service-kit'
import { createClient } from '@libsql/client'
import { GENESIS_HASH, type RecordInput } from '../../records/model.ts'
import { sampleInput } from '../../records/sample.ts'
import { appendOnClient } from './append.ts'
import { openLocalAppender } from './local-append.ts'
import { AUDIT_MIGRATIONS } from './migrations.ts'
import { createLibsqlStore } from './store.ts'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

/** A fresh database file with the audit DDL applied. */
const freshDb = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-local-append-'))
  dirs.push(dir)
  const path = join(dir, 'audit.db')
  const client = createClient({ url: `file:${path}` })
  await migrate(client, AUDIT_MIGRATIONS)
  return { path, client }
}

/** Every stored value with the storage class of the typed ones, and the chains table. */
const stored = async (client: ReturnType<typeof createClient>) => ({
  records: (
    await client.execute(`SELECT *, typeof(seq), typeof(version), typeof(occurred_ms), typeof(tenant_id),
      typeof(payload) FROM audit_records ORDER BY event_id`)
  ).rows.map((r) => ({ ...r })),
  chains: (await client.execute('SELECT chain FROM audit_chains ORDER BY chain')).rows.map((r) => r.chain),
})

/** The error a promise rejects with; a promise that resolves fails the test. */
const failureOf = (promise: Promise<unknown>): Promise<Error & { code?: string }> =>
  promise.then(
    () => {
      throw new Error('expected the append to fail')
    },
    (error: unknown) => error as Error & { code?: string },
  )

/** Two fresh databases: ours behind the driver appender, theirs for the @libsql/client reference path. */
const sideBySide = async () => {
  const ours = await freshDb()
  const theirs = await freshDb()
  const appender = openLocalAppender(ours.path, 5000)
  const close = () => {
    appender.close()
    ours.client.close()
    theirs.client.close()
  }
  return { ours, theirs, appender, close }
}

describe('libSQL append on the local driver connection', () => {
  it('gives every batch the same results and rows as the @libsql/client path while reusing its statements', async () => {
    const { ours, theirs, appender, close } = await sideBySide()
    const tenants = ['reuse-a', 'reuse-b', null]
    const earlier: RecordInput[] = []
    // Full batches (one shape, reused), a short one, a larger one (two INSERTs), full ones again; each after the
    // first carries three earlier events back as duplicates, and one starts a new chain.
    const sizes = [200, 200, 200, 37, 260, 200, 200]
    const cached: number[] = []
    for (const [b, size] of sizes.entries()) {
      const fresh = Array.from({ length: size }, (_, i) =>
        sampleInput({ tenantId: b === 4 && i === 0 ? 'reuse-late' : (tenants[i % 3] ?? null) }),
      )
      const batch = [...fresh, ...earlier.slice(b * 3, b * 3 + 3)]
      const result = await appender.append(batch)
      expect(result).toEqual(await appendOnClient(theirs.client, batch))
      expect(result.appended).toHaveLength(size)
      expect(result.duplicates).toHaveLength(b === 0 ? 0 : 3)
      earlier.push(...fresh)
      cached.push(appender.cachedStatements)
    }
    // Prepared: batch 0 (new ids, one INSERT) its read of three chain heads, 200-row INSERT and chain insert;
    // batch 1 (two INSERTs' worth) a read of 203 ids; batch 2 nothing; the 40-event batch a 40-row INSERT that
    // fails on its duplicates, then its read and a 37-row INSERT; the 263-event one its read, a one-chain
    // insert and a 60-row INSERT (the 200-row one reused); batches 5 and 6 nothing.
    expect(cached).toEqual([3, 4, 4, 7, 10, 10, 10])

    const mine = await stored(ours.client)
    expect(mine.records).toHaveLength(sizes.reduce((a, b) => a + b, 0))
    expect(mine).toEqual(await stored(theirs.client))
    expect(mine.chains).toEqual(['global', 'reuse-a', 'reuse-b', 'reuse-late'])
    close()
  })

  it('inserts a batch of new ids without reading them, and still records each id once when some are not new', async () => {
    const { ours, theirs, appender, close } = await sideBySide()
    const first = Array.from({ length: 50 }, (_, i) => sampleInput({ tenantId: i % 2 ? 'once-a' : null }))
    const expectSame = async (batch: RecordInput[]) => {
      const result = await appender.append(batch)
      expect(result).toEqual(await appendOnClient(theirs.client, batch))
      return result
    }
    expect((await expectSame(first)).duplicates).toEqual([])
    // The heads' read, the 50-row INSERT and the chain insert: the ids were never read.
    expect(appender.cachedStatements).toBe(3)

    // Two recorded ids and an in-batch repeat among new ones: the INSERT fails on the primary key, SQLite
    // undoes it alone, and the batch goes through the read of its ids.
    const fresh = Array.from({ length: 20 }, () => sampleInput({ tenantId: 'once-a' }))
    const again = [first[1], first[0], fresh[3]] as RecordInput[]
    const batch = [again[0] as RecordInput, ...fresh, ...again.slice(1)]
    const { appended, duplicates } = await expectSame(batch)
    expect(duplicates).toEqual(again.map((input) => input.eventId))
    expect(appended.map((r) => [r.eventId, r.seq])).toEqual(fresh.map((input, i) => [input.eventId, 26 + i]))

    const mine = await stored(ours.client)
    expect(mine).toEqual(await stored(theirs.client))
    expect(mine.records).toHaveLength(70)
    expect(mine.chains).toEqual(['global', 'once-a'])
    close()
  })

  it('reads the ids of a batch once retention has pruned events, so a pruned event is not recorded again', async () => {
    const { path } = await freshDb()
    const store = await createLibsqlStore({ url: `file:${path}` })
    const old = new Date(Date.UTC(2020, 0, 1)).toISOString()
    const pruned = sampleInput({ tenantId: 'pruned', receivedAt: old })
    await store.append([pruned])
    expect(await store.prune('pruned', new Date(Date.UTC(2021, 0, 1)))).toMatchObject({ seq: 1 })
    expect(await store.count({ tenantId: 'pruned' })).toBe(0)

    // Its id is in no record any more, so only the read of pruned ids can tell it is not new.
    const fresh = sampleInput({ tenantId: 'pruned' })
    const { appended, duplicates } = await store.append([pruned, fresh])
    expect(duplicates).toEqual([pruned.eventId])
    expect(appended.map((r) => [r.eventId, r.seq])).toEqual([[fresh.eventId, 2]])
    await store.close()
  })

  it('writes nothing of a batch whose second INSERT fails, and reuses that statement afterwards', async () => {
    const { path, client } = await freshDb()
    const appender = openLocalAppender(path, 5000)
    const first = Array.from({ length: 250 }, () => sampleInput({ tenantId: 'mid-batch' }))
    const broken = [...first]
    // Record 230 goes in the second INSERT, after the first 200 rows and the new chain are written.
    broken[230] = { ...(first[230] as RecordInput), type: null } as unknown as RecordInput
    await expect(appender.append(broken)).rejects.toMatchObject({
      name: 'LibsqlError',
      code: 'SQLITE_CONSTRAINT',
      message: expect.stringMatching(/NOT NULL constraint failed: audit_records\.type/),
    })
    expect(await stored(client)).toEqual({ records: [], chains: [] })

    const { appended, duplicates } = await appender.append(first)
    expect(duplicates).toEqual([])
    expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
    expect(appended[0]?.prevHash).toBe(GENESIS_HASH)
    expect((await stored(client)).records).toHaveLength(250)
    appender.close()
    client.close()
  })

  it('reports a failing batch with the same error as the @libsql/client path', async () => {
    const { theirs, appender, close } = await sideBySide()
    const bad = { ...sampleInput({ tenantId: 'same-error' }), source: null } as unknown as RecordInput
    const error = await failureOf(appender.append([bad]))
    const reference = await failureOf(appendOnClient(theirs.client, [bad]))
    expect(error).toBeInstanceOf(Error)
    expect([error.name, error.code, error.message]).toEqual([
      reference.name,
      reference.code,
      reference.message,
    ])
    close()
  })

  it('finishes an append in flight when closed, then refuses more; closing twice is safe', async () => {
    const { path, client } = await freshDb()
    const appender = openLocalAppender(path, 5000)
    const inputs = Array.from({ length: 20 }, () => sampleInput({ tenantId: 'closing' }))
    const pending = appender.append(inputs)
    appender.close()
    appender.close()
    expect((await pending).appended).toHaveLength(20)
    expect((await stored(client)).records).toHaveLength(20)
    await expect(appender.append([sampleInput()])).rejects.toMatchObject({ code: 'CLIENT_CLOSED' })
    client.close()
  })

  it('closes with the store, twice without error, and the store appends no more', async () => {
    const { path, client } = await freshDb()
    client.close()
    const store = await createLibsqlStore({ url: `file:${path}` })
    expect((await store.append([sampleInput({ tenantId: 'store-close' })])).appended).toHaveLength(1)
    await store.close()
    await store.close()
    await expect(store.append([sampleInput()])).rejects.toMatchObject({ code: 'CLIENT_CLOSED' })
  })
})
