/**
 * Audit ingest: the audit consumer (streams runner → hash-chained libSQL store, one transaction per batch)
 * draining prefilled events, against a raw libSQL multi-row insert of the same rows into a table with the
 * same columns and indexes (the ceiling: no Redis, no hashing, no idempotency check).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditRecord, createAuditConsumer, GENESIS_HASH, hashRecord } from '@flotilla/audit'
import { createLibsqlStore, recordInputOf } from '@flotilla/audit/testing'
import { createConsumer } from '@flotilla/streams'
import { createClient } from '@libsql/client'
import Redis from 'ioredis'
import Database from 'libsql'
import { benchEvent, benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  type Contender,
  compare,
  type Measurement,
  ratioTarget,
  reportOf,
  timeConsumer,
} from './lib/harness.ts'
import { prefill } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'

const BATCH = 200
const CONSUMER = `audit consumer (batch ${BATCH}, libSQL store, hash chain)`
const NO_OP = `stream runtime alone, no-op handler (batch ${BATCH}; ceiling of the consumer side)`
const RAW_HASHING = `raw INSERT as above + the chain hashing of each row (hashRecord) in the loop`
const RAW = `raw libSQL multi-row INSERT (${BATCH} rows per statement, one transaction each), prepared once (libsql driver)`
const RAW_CLIENT = `the same through @libsql/client (prepared anew each batch)`

const COLUMNS = [
  'event_id',
  'chain',
  'seq',
  'type',
  'version',
  'action',
  'tenant_id',
  'actor_type',
  'actor_id',
  'subject_type',
  'subject_id',
  'source',
  'occurred_at',
  'occurred_ms',
  'received_at',
  'correlation_id',
  'causation_id',
  'payload',
  'prev_hash',
  'hash',
] as const

// The audit table's columns and indexes (apps/audit/src/store/libsql/ddl.ts), without its triggers.
const RAW_DDL = `
PRAGMA journal_mode = WAL;
CREATE TABLE raw_records (${COLUMNS.map((c) => `${c} ${c === 'event_id' ? 'TEXT PRIMARY KEY NOT NULL' : c === 'seq' || c === 'version' || c === 'occurred_ms' ? 'INTEGER' : 'TEXT'}`).join(', ')});
CREATE UNIQUE INDEX raw_chain_seq ON raw_records (chain, seq);
CREATE INDEX raw_time ON raw_records (occurred_ms, event_id);
CREATE INDEX raw_tenant_time ON raw_records (tenant_id, occurred_ms, event_id);
CREATE INDEX raw_actor_time ON raw_records (actor_id, occurred_ms);
CREATE INDEX raw_type_time ON raw_records (type, occurred_ms);
CREATE INDEX raw_subject_time ON raw_records (subject_id, occurred_ms);
CREATE INDEX raw_correlation ON raw_records (correlation_id);
CREATE INDEX raw_chain_received ON raw_records (chain, received_at);
`

/** The records the audit store would write for the bench events, sealed on one chain (not timed). */
const recordsOf = (n: number): AuditRecord[] => {
  let prevHash = GENESIS_HASH
  const receivedAt = new Date()
  return Array.from({ length: n }, (_, i) => {
    const input = recordInputOf(benchEvent(i), receivedAt)
    const record: AuditRecord = { ...input, chain: 'global', seq: i + 1, prevHash, hash: '' }
    record.hash = hashRecord(record)
    prevHash = record.hash
    return record
  })
}

/** A record's row in the column order above. */
const rowOf = (r: AuditRecord) => [
  r.eventId,
  r.chain,
  r.seq,
  r.type,
  r.version,
  r.action,
  r.tenantId,
  r.actorType,
  r.actorId,
  r.subjectType,
  r.subjectId,
  r.source,
  r.occurredAt,
  Date.parse(r.occurredAt),
  r.receivedAt,
  r.correlationId,
  r.causationId,
  JSON.stringify(r.payload),
  r.prevHash,
  r.hash,
]

const PROFILE = `Where the consumer's time goes (\`bun --cpu-prof\` of this benchmark at 10,000 events, samples split by
side): the consumer side took 1.6× the raw side's samples (975 against 621; 2.3× before the statement cache).
Of the consumer's: libSQL running the batch's INSERT (rows, nine indexes, the append-only trigger) 28%, BEGIN
IMMEDIATE and COMMIT (WAL write and fsync) 21%, the chain hashing (\`sealRecord\`: RFC 8785 canonical JSON +
SHA-256) 15%, the batch's one read of duplicate ids and chain heads 5%, preparing statements under 1%, and the
stream runtime most of the rest (read, decode and validate, settle and ack, ioredis, one trace span per event).
On a local file the store appends on its own \`libsql\` driver connection that keeps its prepared statements
across batches (apps/audit/src/store/libsql/local-append.ts): preparing was 16% of the consumer's samples
before, since @libsql/client prepares every statement anew (the 200-row INSERT takes ~0.65 ms to prepare). So
the raw side now runs that way too — the driver, the INSERT prepared once — as the ceiling the ratio is taken
against; the row through @libsql/client (26% of its samples preparing) stays for comparison. Earlier steps: the INSERT is
text built once per row count from the drizzle schema, no longer drizzle's query builder (~15% of samples);
\`INSERT … SELECT … FROM json_each(?)\` prepares in ~30 µs but ran slower overall (0.40× against 0.49× in one
interleaved run). What remains is the INSERT and its durable commit, the hashing and the stream runtime.

**Verdict: missed.** Side by side with the code before the statement cache (5 alternating runs, 20,000 events,
2026-11-27), the consumer went from 33,500–35,800 events/s (34,800 typical) to 38,300–47,400 (40,100 typical):
+15%. Against the raw insert through @libsql/client that was 0.39–0.41× before and 0.46–0.54× after; but the
store now appends through the driver with its statements kept, so the fair ceiling is the raw insert doing the
same, which is ~1.3–1.4× faster than through the client, and against it the consumer measures 0.37–0.40×. (The
work before took it from 0.23–0.25× to 0.37–0.44× of the client-based raw insert.) The consumer does everything
the raw insert does, plus the hashing (15%), the duplicate and chain-head read, the append-only trigger and the
stream runtime. Changing \`synchronous\` from its FULL default would cut most of the commit's cost but would let
a power cut lose records already acked from the stream, so it was not done.`

/** The markdown section for docs/benchmarks.md. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_AUDIT_EVENTS ?? (quick ? 4_000 : 20_000))
  const redis = new Redis(REDIS_URL)
  const stream = benchStream('audit')
  const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'))
  let dbIndex = 0
  const freshDb = () => `file:${join(dir, `db-${++dbIndex}.db`)}`
  const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`
  try {
    await prefill(redis, stream, N, 'audit prefill')
    const records = recordsOf(N)
    const rows = records.map(rowOf)
    /** The raw driver loop: one INSERT statement per row count, prepared once; `hash` runs inside the clock. */
    const rawDriver = async (hash: boolean): Promise<Measurement> => {
      const db = new Database(freshDb().slice('file:'.length))
      db.exec(RAW_DDL)
      const inserts = new Map<number, ReturnType<typeof db.prepare>>()
      const insertOf = (count: number) => {
        let insert = inserts.get(count)
        if (!insert) {
          const values = Array.from({ length: count }, () => placeholders).join(', ')
          insert = db.prepare(`INSERT INTO raw_records (${COLUMNS.join(', ')}) VALUES ${values}`)
          inserts.set(count, insert)
        }
        return insert
      }
      const start = performance.now()
      for (let i = 0; i < N; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH)
        // The ceiling with the hashing: every row's hash recomputed from its record, as the store seals it.
        if (hash) for (let k = 0; k < chunk.length; k++) chunk[k]![19] = hashRecord(records[i + k]!)
        db.exec('BEGIN IMMEDIATE')
        insertOf(chunk.length).run(chunk.flat())
        db.exec('COMMIT')
      }
      const seconds = (performance.now() - start) / 1000
      db.close()
      return { ops: N, seconds }
    }
    const contenders: Contender[] = [
      {
        name: CONSUMER,
        run: async (): Promise<Measurement> => {
          const store = await createLibsqlStore({ url: freshDb() })
          let appended = 0
          const group = 'audit'
          await redis.xgroup('CREATE', stream, group, '0')
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
          await redis.xgroup('DESTROY', stream, group)
          return { ops: N, seconds }
        },
      },
      // The ceiling: the driver the store's append uses, one statement prepared for the whole run.
      { name: RAW, run: () => rawDriver(false) },
    ]
    // Reference rows and ceilings: full runs only (quick runs check the target).
    if (!quick) {
      contenders.push(
        { name: RAW_HASHING, run: () => rawDriver(true) },
        {
          name: NO_OP,
          run: async (): Promise<Measurement> => {
            const group = `noop-${crypto.randomUUID().slice(0, 8)}`
            await redis.xgroup('CREATE', stream, group, '0')
            const consumer = createConsumer({
              redisUrl: REDIS_URL,
              stream,
              group,
              batchSize: BATCH,
              blockMs: 200,
              handler: { handleBatch: async () => undefined },
            })
            const seconds = await timeConsumer(consumer, () => consumer.status().processed >= N)
            await redis.xgroup('DESTROY', stream, group)
            return { ops: N, seconds }
          },
        },
        {
          name: RAW_CLIENT,
          run: async (): Promise<Measurement> => {
            const client = createClient({ url: freshDb() })
            await client.executeMultiple(RAW_DDL)
            const start = performance.now()
            for (let i = 0; i < N; i += BATCH) {
              const chunk = rows.slice(i, i + BATCH)
              await client.batch(
                [
                  {
                    sql: `INSERT INTO raw_records (${COLUMNS.join(', ')}) VALUES ${chunk.map(() => placeholders).join(', ')}`,
                    args: chunk.flat(),
                  },
                ],
                'write',
              )
            }
            const seconds = (performance.now() - start) / 1000
            client.close()
            return { ops: N, seconds }
          },
        },
      )
    }
    const result = await compare({
      title: `audit ingest of ${N.toLocaleString('en-US')} prefilled events, fresh database each round`,
      unit: 'events/s',
      contenders,
    })
    const check = ratioTarget(result, {
      name: 'audit consumer ÷ raw libSQL multi-row INSERT',
      contender: CONSUMER,
      baseline: RAW,
      limit: 0.5,
    })
    return reportOf(
      result,
      RAW,
      [check],
      [
        `The consumer side is the audit service's own ingest (\`createAuditConsumer\`, batch ${BATCH}): read, decode and validate each entry, map it to a record, check the batch's event ids for duplicates, read the chain head, hash each record (SHA-256 of RFC 8785 canonical JSON), insert in one \`BEGIN IMMEDIATE\` transaction, ack. The raw side inserts the same rows (precomputed, hashes included) into a table with the same columns and indexes, ${BATCH} rows per INSERT (the same batch size), each its own write transaction, WAL mode, on a fresh file each round — once through the \`libsql\` driver with the INSERT prepared once (the ceiling, and what the store's append itself uses for a local file), once through @libsql/client, which prepares it anew every batch. Two ceilings beside them: the raw loop also hashing every row with the service's \`hashRecord\`, and the stream runtime alone with a handler that does nothing (read, decode, validate, span, ack).`,
        PROFILE,
      ],
    )
  } finally {
    await redis.del(stream)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  console.log((await report({ quick: process.argv.includes('--quick') })).markdown)
  process.exit(0)
}
