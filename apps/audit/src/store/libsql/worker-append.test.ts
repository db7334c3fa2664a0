import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sampleInput } from '../../records/sample.ts'
import { verifyChain } from '../../verify/service.ts'
import { describeStoreConformance } from '../conformance.ts'
import { createLibsqlStore } from './store.ts'
import { AppendWorkerExitedError, openWorkerAppender } from './worker-append.ts'

const CRASHING_WORKER = new URL('./fixtures/crashing-append-worker.ts', import.meta.url).href

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

const freshPath = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-worker-append-'))
  dirs.push(dir)
  return join(dir, 'audit.db')
}

const tempStore = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-libsql-worker-'))
  const url = `file:${join(dir, 'audit.db')}`
  return {
    url,
    open: () => createLibsqlStore({ url, appendOnWorker: true }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

describeStoreConformance('libSQL, append on a worker thread', tempStore)

/** A store on a fresh file whose append worker dies on cue (fixtures/crashing-append-worker.ts). */
const crashingStore = async () => {
  const path = await freshPath()
  const store = await createLibsqlStore({
    url: `file:${path}`,
    appendOnWorker: { workerUrl: CRASHING_WORKER },
  })
  return { path, store }
}

const recorded = async (store: Awaited<ReturnType<typeof createLibsqlStore>>, chain: string) =>
  (await store.chainRecords(chain, 0, 1000)).map((r) => [r.eventId, r.seq])

describe('libSQL append on a worker thread: failures', () => {
  it('fails the batch when the worker dies before its commit, and the next append starts a new worker', async () => {
    const { store } = await crashingStore()
    const first = sampleInput({ tenantId: 'w' })
    await store.append([first])
    const doomed = [
      sampleInput({ tenantId: 'w', eventId: 'crash-before-commit-1' }),
      sampleInput({ tenantId: 'w' }),
    ]
    await expect(store.append(doomed)).rejects.toBeInstanceOf(AppendWorkerExitedError)
    // Nothing of the failed batch was written; its retry seals it right after the first record.
    expect(await recorded(store, 'w')).toEqual([[first.eventId, 1]])
    const retry = doomed.map((input, i) => ({ ...input, eventId: `retried-${i}` }))
    const { appended } = await store.append(retry)
    expect(appended.map((r) => r.seq)).toEqual([2, 3])
    expect(await verifyChain({ store }, 'w')).toMatchObject({ ok: true, checked: 3 })
    await store.close()
  })

  it('counts a batch committed just before the worker died exactly once when it is retried', async () => {
    const { store } = await crashingStore()
    const batch = [
      sampleInput({ tenantId: 'w', eventId: 'crash-after-commit-1' }),
      sampleInput({ tenantId: 'w' }),
    ]
    await expect(store.append(batch)).rejects.toBeInstanceOf(AppendWorkerExitedError)
    // The retry of the same batch (what the consumer does with an unacked batch) finds it recorded.
    const again = await store.append([...batch].reverse())
    expect(again).toEqual({ appended: [], duplicates: [batch[1]?.eventId, batch[0]?.eventId] })
    expect(await recorded(store, 'w')).toEqual(batch.map((input, i) => [input.eventId, i + 1]))
    expect(await verifyChain({ store }, 'w')).toMatchObject({ ok: true, checked: 2 })
    await store.close()
  })

  it('returns the rows sealed on the worker as the append results, duplicates included', async () => {
    const { store } = await crashingStore()
    const a = sampleInput({ tenantId: 'x' })
    const b = sampleInput({ tenantId: null })
    const { appended, duplicates } = await store.append([a, b, a])
    expect(duplicates).toEqual([a.eventId])
    const stored = [...(await store.chainRecords('x', 0, 10)), ...(await store.chainRecords('global', 0, 10))]
    expect(appended).toEqual(stored)
    expect(appended.map((r) => r.eventId)).toEqual([a.eventId, b.eventId])
    await store.close()
  })

  it('closes safely twice, after the batch in flight, and refuses appends after', async () => {
    const { store, path } = await crashingStore()
    await store.close()
    const appender = await openWorkerAppender(path, 5000)
    const inFlight = appender.append([sampleInput({ tenantId: 'w' })])
    const closes = [appender.close(), appender.close()]
    expect((await inFlight).appended.map((r) => r.seq)).toEqual([1])
    await Promise.all(closes)
    await appender.close()
    await expect(appender.append([sampleInput()])).rejects.toThrow(/closed/)
    await store.close()
  })
})
