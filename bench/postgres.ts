/**
 * Audit and analytics ingest on PostgreSQL: each service's consumer (streams runner → its PostgreSQL store)
 * draining prefilled events, against a raw multi-row INSERT of the same rows through postgres.js into the very
 * tables the store migrates (same columns, indexes and triggers), and against COPY as a reference. A fresh
 * schema each round.
 */

import { AnalyticsConfigSchema, openDatabase } from '@flotilla/analytics'
import { createEveryEventHandler, createIngest } from '@flotilla/analytics/testing'
import { createAuditConsumer } from '@flotilla/audit'
import { createPostgresStore } from '@flotilla/audit/testing'
import { createConsumer } from '@flotilla/streams'
import { deleteKeysMatching } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import postgres, { type Sql } from 'postgres'
import { analyticsStores } from './lib/analytics-stores.ts'
import { AUDIT_COLUMNS, type AuditRow, recordsOf, rowObjectOf } from './lib/audit-rows.ts'
import { benchEvent, benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  type ComparisonResult,
  type Contender,
  compare,
  type Measurement,
  ratioTarget,
  reportOf,
  timeConsumer,
} from './lib/harness.ts'
import { prefill } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { noOpRuntimeRound } from './lib/stream-rounds.ts'

// The database the tests use (README: `DATABASE_URL`) unless the benchmark is pointed elsewhere.
const BASE_URL =
  process.env.BENCH_POSTGRES_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const AUDIT_BATCH = 200
const ANALYTICS_BATCH = Number(AnalyticsConfigSchema.properties.ANALYTICS_CONSUMER_BATCH_SIZE.default)

interface Schema {
  /** The database URL with `?search_path=<schema>`: what a service reads from its `*_DB_URL`. */
  readonly url: string
  /** A raw postgres.js connection on the schema. */
  driver(): Sql
}

/**
 * Fresh migrated schemas, one per contender and round, made up front a few at a time (migrating takes
 * ~0.1–0.2 s each, more than a quick round) and dropped together at the end. `migrate` opens the service's
 * own store on the URL, which migrates it, and closes it.
 */
const schemaPool = async (
  admin: Sql,
  label: string,
  count: number,
  migrate: (url: string) => Promise<void>,
) => {
  const names: string[] = []
  const make = async () => {
    const schema = `bench_${label}_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    names.push(schema)
    await admin.unsafe(`CREATE SCHEMA "${schema}"`)
    const url = new URL(BASE_URL)
    url.searchParams.set('search_path', schema)
    await migrate(url.toString())
    return {
      url: url.toString(),
      driver: () => postgres(BASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema } }),
    }
  }
  const drop = () => Promise.all(names.map((name) => admin.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)))
  const ready: Schema[] = []
  try {
    for (let i = 0; i < count; i += 4) {
      ready.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, make))))
    }
  } catch (error) {
    await drop()
    throw error
  }
  return {
    take: (): Schema => {
      const next = ready.shift()
      if (!next) throw new Error(`${label}: no fresh schema left`)
      return next
    },
    drop,
  }
}

// ---- audit ---------------------------------------------------------------------------------------------

/** The rows the store would write, sealed on one chain with the service's own hash (up front, not timed). */
const auditRowsOf = (n: number): AuditRow[] => recordsOf(n).map(rowObjectOf)

/** COPY's text format: tab-separated, `\N` for NULL, backslash escapes. */
const copyField = (v: string | number | null): string =>
  v === null
    ? '\\N'
    : String(v).replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
const copyLines = (rows: readonly Record<string, string | number | null>[], columns: readonly string[]) =>
  rows.map((row) => `${columns.map((c) => copyField(row[c] ?? null)).join('\t')}\n`).join('')

/** One COPY … FROM STDIN of `text` (in the caller's transaction). */
const copyInto = async (tx: Sql, table: string, columns: readonly string[], text: string) => {
  const stream = await tx.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN`).writable()
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject)
    stream.on('finish', resolve)
    stream.end(text)
  })
}

const ROUNDS = 5
const WARMUP = 1

/** Times `batches` written by `write`, one transaction each, on a raw connection to a fresh schema. */
const timedRaw = async <B>(
  schema: Schema,
  batches: readonly B[],
  events: number,
  write: (tx: Sql, batch: B) => Promise<unknown>,
): Promise<Measurement> => {
  const sql = schema.driver()
  try {
    await sql`SELECT 1` // connected before the clock starts
    const start = performance.now()
    for (const batch of batches) await sql.begin((tx) => write(tx as unknown as Sql, batch))
    return { ops: events, seconds: (performance.now() - start) / 1000 }
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/**
 * Runs the contenders `build` makes side by side, each run taking a fresh migrated schema (`take`) from a pool made
 * up front for every contender and round, and drops the pool afterwards.
 */
const compareOnFreshSchemas = async (
  admin: Sql,
  label: string,
  migrate: (url: string) => Promise<void>,
  title: string,
  build: (take: () => Schema) => Contender[],
): Promise<ComparisonResult> => {
  const pool: { take?: () => Schema } = {}
  const contenders = build(() => {
    if (!pool.take) throw new Error(`${label}: schemas taken before the pool was made`)
    return pool.take()
  })
  const schemas = await schemaPool(admin, label, contenders.length * (ROUNDS + WARMUP), migrate)
  pool.take = schemas.take
  try {
    return await compare({ title, unit: 'events/s', rounds: ROUNDS, warmup: WARMUP, contenders })
  } finally {
    await schemas.drop()
  }
}

const auditComparison = async (admin: Sql, redis: Redis, stream: string, n: number, quick: boolean) => {
  const rows = auditRowsOf(n)
  const batches = Array.from({ length: Math.ceil(n / AUDIT_BATCH) }, (_, i) =>
    rows.slice(i * AUDIT_BATCH, (i + 1) * AUDIT_BATCH),
  )
  const build = (take: () => Schema): Contender[] => {
    const contenders: Contender[] = [
      {
        name: AUDIT_CONSUMER,
        run: async () => {
          const store = await createPostgresStore({ url: take().url })
          let appended = 0
          await redis.xgroup('CREATE', stream, 'audit', '0')
          const consumer = createAuditConsumer({
            redisUrl: REDIS_URL,
            stream,
            store,
            blockMs: 200,
            batchSize: AUDIT_BATCH,
            onAppended: (a) => {
              appended += a
            },
          })
          try {
            return { ops: n, seconds: await timeConsumer(consumer, () => appended >= n) }
          } finally {
            await store.close()
            await redis.xgroup('DESTROY', stream, 'audit')
          }
        },
      },
      {
        name: AUDIT_RAW,
        run: () =>
          timedRaw(
            take(),
            batches,
            n,
            (tx, batch) => tx`INSERT INTO audit_records ${tx(batch, AUDIT_COLUMNS)}`,
          ),
      },
    ]
    // The reference row only in full runs: quick runs check the target.
    if (!quick) {
      contenders.push({
        name: AUDIT_COPY,
        run: () =>
          timedRaw(take(), batches, n, (tx, batch) =>
            copyInto(tx, 'audit_records', AUDIT_COLUMNS, copyLines(batch, AUDIT_COLUMNS)),
          ),
      })
    }
    return contenders
  }
  return compareOnFreshSchemas(
    admin,
    'audit',
    async (url) => {
      await (await createPostgresStore({ url })).close()
    },
    `audit ingest on PostgreSQL, ${n.toLocaleString('en-US')} prefilled events, fresh schema each round`,
    build,
  )
}

const AUDIT_CONSUMER = `audit consumer (batch ${AUDIT_BATCH}, PostgreSQL store, hash chain)`
const AUDIT_RAW = `raw postgres.js multi-row INSERT (${AUDIT_BATCH} rows per statement, one transaction each)`
const AUDIT_COPY = `COPY … FROM STDIN (${AUDIT_BATCH} rows per COPY, one transaction each; reference)`

// ---- analytics -----------------------------------------------------------------------------------------

const ANALYTICS_CONSUMER = `analytics consumer (batch ${ANALYTICS_BATCH}, PostgreSQL, exactly-once counters)`
const ANALYTICS_RAW = `raw postgres.js multi-row INSERTs (${ANALYTICS_BATCH} ids + the counter upsert + dirty marks per transaction)`
const ANALYTICS_INGEST_ALONE = `the analytics ingest alone: createIngest().ingestBatch of ${ANALYTICS_BATCH} decoded events, uniques included (no stream)`
const ANALYTICS_NO_OP = `stream runtime alone, no-op handler (batch ${ANALYTICS_BATCH}; no database)`
const ANALYTICS_COPY = `COPY of the ids, then the same upserts (${ANALYTICS_BATCH} per transaction; reference)`

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

/** Per batch: the processed-id rows, its minute counters and dirty marks (what the ingest writes, precomputed). */
const analyticsBatchesOf = (n: number) => {
  const at = Date.now()
  const batches = []
  for (let i = 0; i < n; i += ANALYTICS_BATCH) {
    const events = Array.from({ length: Math.min(ANALYTICS_BATCH, n - i) }, (_, k) => benchEvent(i + k))
    const cells = new Map<
      string,
      { grain: string; bucket: number; tenant_id: string; type: string; source: string; count: number }
    >()
    const dirty = new Map<string, { grain: string; bucket: number }>()
    for (const e of events) {
      const t = Date.parse(e.occurredAt)
      const bucket = Math.floor(t / MINUTE) * MINUTE
      const key = `${bucket}/${e.type}/${e.source}`
      const cell = cells.get(key)
      if (cell) cell.count++
      else
        cells.set(key, { grain: 'minute', bucket, tenant_id: '', type: e.type, source: e.source, count: 1 })
      for (const [grain, step] of [
        ['hour', HOUR],
        ['day', DAY],
      ] as const) {
        const b = Math.floor(t / step) * step
        dirty.set(`${grain}/${b}`, { grain, bucket: b })
      }
    }
    batches.push({
      ids: events.map((e) => ({ id: e.id, processed_at: at })),
      cells: [...cells.values()],
      dirty: [...dirty.values()],
    })
  }
  return batches
}
type AnalyticsBatch = ReturnType<typeof analyticsBatchesOf>[number]

const upserts = async (tx: Sql, batch: AnalyticsBatch) => {
  await tx`INSERT INTO counts ${tx(batch.cells, 'grain', 'bucket', 'tenant_id', 'type', 'source', 'count')}
    ON CONFLICT (grain, bucket, tenant_id, type, source) DO UPDATE SET count = counts.count + excluded.count`
  await tx`INSERT INTO dirty_buckets ${tx(batch.dirty, 'grain', 'bucket')} ON CONFLICT DO NOTHING`
}

const analyticsComparison = async (admin: Sql, redis: Redis, stream: string, n: number, quick: boolean) => {
  const batches = analyticsBatchesOf(n)
  const prefix = `bench:pg-analytics:${crypto.randomUUID().slice(0, 8)}:`
  let round = 0
  const build = (take: () => Schema): Contender[] => {
    const contenders: Contender[] = [
      {
        name: ANALYTICS_CONSUMER,
        run: async () => {
          round++
          const { database, uniques } = await analyticsStores(redis, take().url, `${prefix}${round}:`)
          const group = `analytics-pg-${round}`
          await redis.xgroup('CREATE', stream, group, '0')
          const consumer = createConsumer({
            redisUrl: REDIS_URL,
            stream,
            group,
            batchSize: ANALYTICS_BATCH,
            blockMs: 200,
            handler: createEveryEventHandler({ ingest: createIngest({ db: database.db, uniques }) }),
          })
          try {
            return { ops: n, seconds: await timeConsumer(consumer, () => consumer.status().processed >= n) }
          } finally {
            await database.close()
            await redis.xgroup('DESTROY', stream, group)
          }
        },
      },
      {
        name: ANALYTICS_RAW,
        run: () =>
          timedRaw(take(), batches, n, async (tx, batch) => {
            await tx`INSERT INTO processed_events ${tx(batch.ids, 'id', 'processed_at')} ON CONFLICT DO NOTHING`
            await upserts(tx, batch)
          }),
      },
    ]
    if (!quick) {
      const events = Array.from({ length: n }, (_, i) => benchEvent(i))
      contenders.push(
        {
          // Ceiling of the handler: the same ingest transaction and uniques, on events already decoded.
          name: ANALYTICS_INGEST_ALONE,
          run: async () => {
            round++
            const { database, uniques } = await analyticsStores(redis, take().url, `${prefix}${round}:`)
            const ingest = createIngest({ db: database.db, uniques })
            try {
              const start = performance.now()
              for (let i = 0; i < n; i += ANALYTICS_BATCH)
                await ingest.ingestBatch(events.slice(i, i + ANALYTICS_BATCH))
              return { ops: n, seconds: (performance.now() - start) / 1000 }
            } finally {
              await database.close()
            }
          },
        },
        {
          // Ceiling of the runtime: the stream runtime reading, decoding and acking with a handler that does nothing.
          name: ANALYTICS_NO_OP,
          run: () => {
            take() // keeps one schema per contender and round, as the others take
            return noOpRuntimeRound(redis, stream, n, ANALYTICS_BATCH)
          },
        },
      )
      contenders.push({
        name: ANALYTICS_COPY,
        run: () =>
          timedRaw(take(), batches, n, async (tx, batch) => {
            await copyInto(
              tx,
              'processed_events',
              ['id', 'processed_at'],
              copyLines(batch.ids, ['id', 'processed_at']),
            )
            await upserts(tx, batch)
          }),
      })
    }
    return contenders
  }
  try {
    return await compareOnFreshSchemas(
      admin,
      'analytics',
      async (url) => {
        await (await openDatabase({ url })).close()
      },
      `analytics ingest on PostgreSQL, ${n.toLocaleString('en-US')} prefilled events, fresh schema each round`,
      build,
    )
  } finally {
    await deleteKeysMatching(redis, `${prefix}*`)
  }
}

const NOTES = [
  `Both candidates are the services' own ingest on PostgreSQL (postgres.js through the kit, the database at \`BENCH_POSTGRES_URL\`, else \`DATABASE_URL\`, else the local \`test\` database, a fresh schema per contender and round, migrated by the service's own store before the clock starts): audit's \`createAuditConsumer\` over its PostgreSQL store (per batch of ${AUDIT_BATCH}: one transaction that locks the batch's chains and reads duplicates and chain heads in one pipelined flight, hashes each record and inserts them with one prepared \`INSERT … SELECT FROM unnest(…)\`), analytics' \`createEveryEventHandler\` over \`createIngest\` (per batch of ${ANALYTICS_BATCH}: one transaction that takes the rollup lock shared, records the ids, then adds the minute counters and marks the dirty buckets together; the uniques go to Redis beside it). The raw rows write the same rows, precomputed (hashes included), with the same batch sizes into the same migrated tables (columns, indexes and triggers), one transaction per batch, through postgres.js multi-row \`INSERT … VALUES\` (prepared by the driver); the COPY rows are the reference for PostgreSQL's fastest bulk path. The raw rows read nothing from Redis, so the ratios also carry the stream runtime.`,
  `Measured on the shared machine (two full runs, load average 7.5 → 11.4, then 18.9 → 11.9; PostgreSQL's commits and the other helpers' work share two cores and one disk, so rounds swing widely and these numbers are indicative). Audit: the consumer ran at 0.97× and 0.61× of the raw INSERT by the medians, 0.43–1.35× and 0.30–1.31× per round; the misses are single rounds hit by the load, and the store's unnest INSERT (20 arrays, one statement text for every batch size) is itself no slower than 200-row VALUES with 4,000 parameters. Analytics: 0.30–0.49× (median 0.43×) before the paired upserts and a pipelined rollup lock, 0.46–0.63× (median 0.57×) after, in the second, busier run (the lock's own round trip was put back later: a lost count once came with the pipelined form in a concurrency test, cause not proven). Its ceiling is in the table: the ingest alone (the same transaction and uniques on decoded events) ran at 0.95× of the raw INSERTs and the stream runtime with a no-op handler at 1.43×; the runtime handles one batch at a time and waits for it, so the two add up to 1 ÷ (1 ÷ 1.43 + 1 ÷ 0.95) = 0.57× at best, which is what the consumer reached. The rest of the gap is the runtime's, not the store's.`,
]

/** The markdown section for docs/benchmarks.md: both comparisons, each with its target. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  // Quick: a few batches of each (audit 200 per batch, analytics 500).
  const auditEvents = Number(process.env.BENCH_POSTGRES_AUDIT_EVENTS ?? (quick ? 1_000 : 10_000))
  const analyticsEvents = Number(process.env.BENCH_POSTGRES_ANALYTICS_EVENTS ?? (quick ? 2_000 : 20_000))
  const redis = new Redis(REDIS_URL)
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} })
  const auditStream = benchStream('postgres-audit')
  const analyticsStream = benchStream('postgres-analytics')
  try {
    await prefill(redis, auditStream, auditEvents, 'postgres audit prefill')
    await prefill(redis, analyticsStream, analyticsEvents, 'postgres analytics prefill')
    const audit = await auditComparison(admin, redis, auditStream, auditEvents, quick)
    const analytics = await analyticsComparison(admin, redis, analyticsStream, analyticsEvents, quick)
    const auditCheck = ratioTarget(audit, {
      name: 'audit on PostgreSQL ÷ raw multi-row INSERT',
      contender: AUDIT_CONSUMER,
      baseline: AUDIT_RAW,
      limit: 0.5,
    })
    const analyticsCheck = ratioTarget(analytics, {
      name: 'analytics on PostgreSQL ÷ raw multi-row INSERTs',
      contender: ANALYTICS_CONSUMER,
      baseline: ANALYTICS_RAW,
      limit: 0.5,
    })
    const a = reportOf(audit, AUDIT_RAW, [auditCheck])
    const b = reportOf(analytics, ANALYTICS_RAW, [analyticsCheck], NOTES)
    return { markdown: `${a.markdown}\n\n${b.markdown}`, checks: [auditCheck, analyticsCheck] }
  } finally {
    await redis.del(auditStream, analyticsStream)
    redis.disconnect()
    await admin.end({ timeout: 1 })
  }
}

if (import.meta.main) {
  console.log((await report({ quick: process.argv.includes('--quick') })).markdown)
  process.exit(0)
}
