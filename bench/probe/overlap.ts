/**
 * Probe: can a worker thread's insert overlap the main thread's stream work on this machine?
 * RAW: the raw insert on the main thread (the audit bench's baseline). SERIAL: the real audit consumer.
 * WORKER_NOW: today's runtime, handler posts the batch's record inputs to a worker that hashes + inserts +
 * commits, and awaits its reply. PIPELINED: a raw loop that reads, decodes and maps batch i+1 while the worker
 * commits batch i (acks batch i after its commit): the overlap a decode-ahead runtime would allow.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuditConsumer, type RecordInput } from '@flotilla/audit'
import { createLibsqlStore, recordInputOf } from '@flotilla/audit/testing'
import { decodeEntry } from '@flotilla/contracts'
import { createConsumer } from '@flotilla/streams'
import Redis from 'ioredis'
import Database from 'libsql'
import { AUDIT_COLUMNS, recordsOf, rowOf } from '../lib/audit-rows.ts'
import { benchStream } from '../lib/fixtures.ts'
import { compare, type Measurement, timeConsumer } from '../lib/harness.ts'
import { prefill } from '../lib/prefill.ts'
import { REDIS_URL } from '../lib/redis.ts'

const BATCH = 200
const N = Number(process.env.N ?? 20_000)
const RAW_DDL = `
PRAGMA journal_mode = WAL;
CREATE TABLE raw_records (${AUDIT_COLUMNS.map((c) => `${c} ${c === 'event_id' ? 'TEXT PRIMARY KEY NOT NULL' : c === 'seq' || c === 'version' || c === 'occurred_ms' ? 'INTEGER' : 'TEXT'}`).join(', ')});
CREATE UNIQUE INDEX raw_chain_seq ON raw_records (chain, seq);
CREATE INDEX raw_time ON raw_records (occurred_ms, event_id);
CREATE INDEX raw_tenant_time ON raw_records (tenant_id, occurred_ms, event_id);
CREATE INDEX raw_actor_time ON raw_records (actor_id, occurred_ms);
CREATE INDEX raw_type_time ON raw_records (type, occurred_ms);
CREATE INDEX raw_subject_time ON raw_records (subject_id, occurred_ms);
CREATE INDEX raw_correlation ON raw_records (correlation_id);
CREATE INDEX raw_chain_received ON raw_records (chain, received_at);
`
const redis = new Redis(REDIS_URL)
const stream = benchStream('overlap')
const dir = mkdtempSync(join(tmpdir(), 'bench-overlap-'))
let dbIndex = 0
const freshPath = () => join(dir, `db-${++dbIndex}.db`)
const placeholders = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`

const worker = new Worker(new URL('./insert-worker.ts', import.meta.url).href)
let nextId = 0
const waiting = new Map<number, () => void>()
let onOpened: (() => void) | null = null
worker.onmessage = (e: MessageEvent) => {
  const d = e.data as { opened?: boolean; id?: number }
  if (d.opened) onOpened?.()
  else {
    const w = waiting.get(d.id as number)
    waiting.delete(d.id as number)
    w?.()
  }
}
const openWorkerDb = () =>
  new Promise<void>((resolve) => {
    onOpened = resolve
    worker.postMessage({ open: { path: freshPath(), ddl: RAW_DDL } })
  })
const sendBatch = (batch: RecordInput[]) =>
  new Promise<void>((resolve) => {
    const id = nextId++
    waiting.set(id, resolve)
    worker.postMessage({ id, batch })
  })

await prefill(redis, stream, N, 'overlap prefill')
const records = recordsOf(N)
const rows = records.map(rowOf)

const result = await compare({
  title: `overlap probe, ${N} events`,
  unit: 'events/s',
  contenders: [
    {
      name: 'RAW insert, main thread',
      run: async (): Promise<Measurement> => {
        const db = new Database(freshPath())
        db.exec(RAW_DDL)
        const insert = db.prepare(
          `INSERT INTO raw_records (${AUDIT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: BATCH }, () => placeholders).join(', ')}`,
        )
        const start = performance.now()
        for (let i = 0; i < N; i += BATCH) {
          db.exec('BEGIN IMMEDIATE')
          insert.run(rows.slice(i, i + BATCH).flat())
          db.exec('COMMIT')
        }
        const seconds = (performance.now() - start) / 1000
        db.close()
        return { ops: N, seconds }
      },
    },
    {
      name: 'SERIAL: audit consumer today',
      run: async (): Promise<Measurement> => {
        const store = await createLibsqlStore({ url: `file:${freshPath()}` })
        let appended = 0
        await redis.xgroup('CREATE', stream, 'audit', '0')
        const consumer = createAuditConsumer({
          redisUrl: REDIS_URL,
          stream,
          store,
          blockMs: 200,
          batchSize: BATCH,
          onAppended: (n) => {
            appended += n
          },
        })
        const seconds = await timeConsumer(consumer, () => appended >= N)
        await store.close()
        await redis.xgroup('DESTROY', stream, 'audit')
        return { ops: N, seconds }
      },
    },
    {
      name: 'WORKER_NOW: runtime today, handler awaits worker (hash+insert+commit)',
      run: async (): Promise<Measurement> => {
        await openWorkerDb()
        const group = `w-${crypto.randomUUID().slice(0, 8)}`
        await redis.xgroup('CREATE', stream, group, '0')
        let done = 0
        const consumer = createConsumer({
          redisUrl: REDIS_URL,
          stream,
          group,
          batchSize: BATCH,
          blockMs: 200,
          handler: {
            handleBatch: async (messages) => {
              const at = new Date()
              await sendBatch(messages.map((m) => recordInputOf(m.event, at)))
              done += messages.length
              return undefined
            },
          },
        })
        const seconds = await timeConsumer(consumer, () => done >= N)
        await redis.xgroup('DESTROY', stream, group)
        return { ops: N, seconds }
      },
    },
    {
      name: 'PIPELINED: read+decode+map batch i+1 while worker commits batch i',
      run: async (): Promise<Measurement> => {
        await openWorkerDb()
        const group = `p-${crypto.randomUUID().slice(0, 8)}`
        await redis.xgroup('CREATE', stream, group, '0')
        const start = performance.now()
        let previous: { ids: string[]; committed: Promise<void> } | null = null
        for (;;) {
          const reply = (await redis.xreadgroup(
            'GROUP',
            group,
            'c',
            'COUNT',
            BATCH,
            'STREAMS',
            stream,
            '>',
          )) as [string, [string, string[]][]][] | null
          const entries = reply?.[0]?.[1] ?? []
          const at = new Date()
          const inputs: RecordInput[] = []
          for (const [, fields] of entries) {
            const d = decodeEntry(fields)
            if (d.ok) inputs.push(recordInputOf(d.event, at))
          }
          const current = entries.length
            ? { ids: entries.map(([id]) => id), committed: sendBatch(inputs) }
            : null
          if (previous) {
            await previous.committed
            await redis.xack(stream, group, ...previous.ids)
          }
          previous = current
          if (!current) break
        }
        const seconds = (performance.now() - start) / 1000
        await redis.xgroup('DESTROY', stream, group)
        return { ops: N, seconds }
      },
    },
  ],
})
for (const r of result.results)
  console.log(
    `${r.name}\n   median ${Math.round(r.median)}  min ${Math.round(r.min)}  max ${Math.round(r.max)}  rates ${r.rates.map(Math.round).join(' ')}`,
  )
const raw = result.results[0]!
for (const r of result.results.slice(1))
  console.log(
    `${r.name.split(':')[0]}: ratio ${(r.median / raw.median).toFixed(2)}; per round ${r.rates.map((x, i) => (x / raw.rates[i]!).toFixed(2)).join(' ')}`,
  )
await redis.del(stream)
redis.disconnect()
worker.terminate()
rmSync(dir, { recursive: true, force: true })
process.exit(0)
