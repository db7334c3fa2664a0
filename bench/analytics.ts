/**
 * Analytics ingest: the analytics consumer (streams runner → exactly-once counters in libSQL, one transaction
 * per batch with the event ids; uniques in Redis HyperLogLogs beside it) draining prefilled events, against the
 * raw XREADGROUP + XACK drain loop over the same stream.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AnalyticsConfigSchema } from '@flotilla/analytics'
import { createEveryEventHandler, createIngest } from '@flotilla/analytics/testing'
import { type AnyEvent, decodeEntry } from '@flotilla/contracts'
import { createConsumer } from '@flotilla/streams'
import { deleteKeysMatching } from '@flotilla/streams/testing'
import Redis from 'ioredis'
import type { ToIngestWorker } from './analytics-ingest-worker.ts'
import { analyticsStores } from './lib/analytics-stores.ts'
import { benchEvent, benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  type Contender,
  compare,
  type Measurement,
  ratioTarget,
  reachOf,
  reportOf,
  serialRates,
  timeConsumer,
} from './lib/harness.ts'
import { prefill, timedRawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { noOpRuntimeRound, readNew } from './lib/stream-rounds.ts'
import { startWorker } from './lib/worker-client.ts'

// The service's own default, so the benchmark measures what deps.ts wires.
const BATCH = Number(AnalyticsConfigSchema.properties.ANALYTICS_CONSUMER_BATCH_SIZE.default)
const CONSUMER = `analytics consumer (batch ${BATCH}, exactly-once counters)`
const TARGET = 0.6
const RAW = `raw XREADGROUP COUNT ${BATCH} + XACK per batch (the consumer's batch size)`
const RAW_100 = "raw XREADGROUP COUNT 100 + XACK per batch (the drain benchmark's loop)"
const INGEST_ALONE = `the ingest alone: createIngest().ingestBatch of ${BATCH} decoded events, uniques included (no stream)`
const NO_OP = `stream runtime alone, no-op handler (batch ${BATCH}; ceiling of the consumer side)`
const OVERLAP = `ceiling with overlap: read, decode and add uniques here while a worker thread commits the previous batch's counts (two batches in flight, acked after commit; no runtime)`

/** A raw drain at `count` entries per read: XREADGROUP, then one XACK of the batch, until the group read all. */
const timedDrain = async (redis: Redis, stream: string, count: number): Promise<Measurement> => {
  const group = `raw-${crypto.randomUUID().slice(0, 8)}`
  await redis.xgroup('CREATE', stream, group, '0')
  const start = performance.now()
  let total = 0
  for (;;) {
    const entries = await readNew(redis, stream, group, count)
    if (entries.length === 0) break
    await redis.xack(stream, group, ...entries.map(([id]) => id))
    total += entries.length
  }
  const seconds = (performance.now() - start) / 1000
  await redis.xgroup('DESTROY', stream, group)
  return { ops: total, seconds }
}

const deleteKeys = deleteKeysMatching

const PROFILE = `**The baseline is now fair on batch size.** It used to read 100 entries per XREADGROUP while the consumer reads
${BATCH}; against that loop the consumer measured 0.46–0.55×. Reading ${BATCH} per call, the raw drain is faster
(the COUNT 100 loop ran at 0.44–0.72× of it in the two runs below), so the same consumer now measures lower. Both rows
stay in the table.

**Why 0.6× is out of reach: the ceilings in the table.** Two full runs on the shared machine (load average 7.9 →
7.5, then 7.3 → 6.7, so indicative): the stream runtime alone, reading, decoding, validating, tracing and acking
with a handler that does nothing, drains at 0.66× and then 0.46× of the raw drain; the ingest alone (the service's
transaction and uniques on events already decoded, no stream) runs at 0.66× of it in the second run; the consumer
measured 0.26–0.55× (median 0.35×) and 0.18–0.43× (median 0.21×). The runtime handles one batch at a time and
the libSQL driver blocks the thread for the statements and the commit, so the two add up: 1 ÷ (1 ÷ 0.46 + 1 ÷
0.66) = 0.27× is the most the second run allowed, and the consumer reached 0.23× by the medians. Even a free
handler stays under 0.6× whenever the no-op runtime does (0.46× in the second run). At 0.66× for the runtime,
0.6× leaves the handler 1 ÷ 0.6 − 1 ÷ 0.66 = 0.15 of the raw drain's time per event; the ingest alone takes
1.5 of it (1 ÷ 0.66), and its durable commit per batch (WAL with \`synchronous\` at its FULL default: a batch is
acked only once its counts are on disk) is not a cost to trade away. Two runs of this benchmark on a quieter machine
(load average 1.2 → 1.9, then 3.2 → 3.0): the runtime alone 0.77× and 0.79×, the ingest alone 1.07× and 1.36×, so
serial bounds of 1 ÷ (1 ÷ 0.77 + 1 ÷ 1.07) = 0.45× and 1 ÷ (1 ÷ 0.79 + 1 ÷ 1.36) = 0.50×; the consumer's medians were
0.50× and 0.45× (per round 0.30–0.71× and 0.38–0.59×): it sits at the bound. With the ingest as measured, 0.6×
in series would need the runtime alone at 1.07–1.37× of the raw drain, against the 0.77–0.79× it measured. The full
run of 2026-12-04 07:56 (load average ~1–3): the runtime alone 0.77× (175,833–315,781 events/s over the rounds), the
ingest alone 1.27×, a bound of 1 ÷ (1 ÷ 0.77 + 1 ÷ 1.27) = 0.48×;
the consumer measured 0.46–0.53× per round (median 0.49×), at the bound again.

**Overlapping the commit on a worker thread does not pay here.** The row "ceiling with overlap" runs the ingest's
SQL transaction on a warm worker thread while the main thread reads, decodes and adds the uniques of the next batch
(two batches in flight, each acked after its commit; no runtime): 0.43× against 0.45× for the consumer (load average
3.2 → 3.0), 0.29× against 0.46× (3.2 → 4.7) and 0.29× against 0.30× (3.7 → 4.7) in three runs of this benchmark,
and in a standalone script running the same loop 0.36× and 0.32× against 0.49× and 0.52× (load average 1.1).
Running the two sides at once needs a free core, and there is none: the main thread's share (reading, decoding and
validating, the uniques, handing 500 events to the worker by structured clone) and Redis already keep both busy, so a
third busy thread only adds its messages. The same design for the audit store was built and measured (the audit
section): no gain there either, with the runtime handling one batch at a time or decoding the next one ahead.

Where the time goes (\`bun --cpu-prof\` of the consumer alone, 40,000 events per round, four rounds, load average
2.3): libSQL running the ingest's statements and commit 23% of the process's samples, preparing them 1.6% (the
@libsql/client connection prepared every statement anew each batch; the ingest now keeps them, below), the
handler's JavaScript ~5% (\`aggregate\` 3%, the rest of the transaction 2%),
decoding and validating each entry ~11%, the runtime's batch processing ~13% in all, ioredis's reply conversion
~7–8%. The counter upsert and the dirty marks are sent together (on PostgreSQL that saves a round trip, on libSQL
they run one after the other). The default batch went from 200 to 500 earlier (\`ANALYTICS_CONSUMER_BATCH_SIZE\`);
1000, the setting's maximum, gained little more, and 500 keeps a batch's redelivery after a crash and its write
transaction (which the rollup jobs wait behind) small.

**The counting transaction on a connection of its own.** A local file's ingest runs on the \`libsql\` driver with its
statements prepared once (\`apps/analytics/src/db/libsql-local-ingest.ts\`, as the audit store's append), under the same
in-process write lock as the database's @libsql/client, still at \`synchronous = FULL\`. Four runs of this benchmark
alternating with the commit before it (load average 1.9–2.3): the consumer's per-round medians 0.54×, 0.60×, 0.54×
and 0.48× against 0.41×, 0.40×, 0.36× and 0.50×, the ingest alone 1.49×, 1.23×, 1.18× and 1.12× against 1.35×,
0.92×, 0.81× and 0.84×; two more at load average 1.5: 0.70× and 0.66× (0.6× met in 4 of 5 rounds each) against
0.52× and 0.57× (2 of 5 each); in one process, paired round by round against the @libsql/client consumer (21 rounds),
1.10×, 1.06× and 1.05×, with 6.2 µs of the process's CPU per event against 6.75. The target, 0.6× in every
round, is still missed: on a quiet machine the consumer is bound by its own thread's CPU (busy 96–99% of the wall time; 6.2 µs per
event against 4.0 µs for the runtime with a no-op handler and 2.5 µs for the raw loop), and the load of other work
on the two cores decides the rest.

**Tried and not kept.** The next batch handled while the previous batch's ack travels (\`adf32a2\`, this time as an
option of the consumer, off by default): paired round by round against the same consumer without it, 0.98× (better
in 9 of 21 rounds, load average 2.2 → 2.8) over the WAL sync below, and 0.87× (4 of 21, load average 0.9) over the
kept-statement ingest, with more CPU per event (8.1 µs against 6.7). Committing at \`synchronous = NORMAL\` on the ingest's connection and then
syncing the WAL (\`fdatasync\`) on the thread pool before the ingest returns, so that the wait for the disk overlaps
the decoding of the next batch (an acked batch still on disk): 1.19× while other work kept the disk busy (a commit's
sync 1–4 ms), but 0.81× and 0.96× on a quiet disk (sync ~0.3 ms), where the consumer is CPU-bound and handing every
sync to another thread costs more CPU per event (6.9–9.0 µs against 6.7).

**A fresh file flatters the consumer a little.** Each round starts from an empty database, while a service that has
run for a while remembers every event id of its \`ANALYTICS_PROCESSED_ID_RETENTION_DAYS\` (30 by default). Measured
side by side (2026-12-04, a throwaway script: the same consumer, 20,000 events per round, alternating a fresh file with
a copy of one already holding 1,000,000 processed ids, time-ordered and older than the events, synced to disk before the
round; three runs of 10–12 rounds each, load average 1.5–3.5 with other work on the machine): the seeded file drained
12%, 9% and 39% slower by the medians (72,744 against 82,957 events/s in the quietest run), at 5% more CPU per event
(8.86 against 8.42 µs). Longer rounds read lower for the same reason: 100,000 events per round gave the consumer
84,127 and 72,973 events/s against 98,924 and 97,357 at 20,000 (alternating, load average 1.5–2.0). The table above
starts every round from a fresh file: read its consumer rate, and the ratio, as the best case.`

/** The markdown section for docs/benchmarks.md. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_ANALYTICS_EVENTS ?? (quick ? 6_000 : 20_000))
  const redis = new Redis(REDIS_URL)
  const stream = benchStream('analytics')
  const dir = mkdtempSync(join(tmpdir(), 'bench-analytics-'))
  const prefix = `bench:analytics:${crypto.randomUUID().slice(0, 8)}:`
  let round = 0
  // One worker for every round, as a service would keep it: warm after the warm-up round.
  const worker = quick
    ? null
    : startWorker<ToIngestWorker>(new URL('./analytics-ingest-worker.ts', import.meta.url))
  try {
    await prefill(redis, stream, N, 'analytics prefill')
    const contenders: Contender[] = [
      {
        name: CONSUMER,
        run: async (): Promise<Measurement> => {
          round++
          const { database, uniques } = await analyticsStores(
            redis,
            `file:${join(dir, `analytics-${round}.db`)}`,
            `${prefix}${round}:`,
          )
          const group = `analytics-${round}`
          await redis.xgroup('CREATE', stream, group, '0')
          const consumer = createConsumer({
            redisUrl: REDIS_URL,
            stream,
            group,
            batchSize: BATCH,
            blockMs: 200,
            handler: createEveryEventHandler({ ingest: createIngest({ db: database.db, uniques }) }),
          })
          const seconds = await timeConsumer(consumer, () => consumer.status().processed >= N)
          await database.close()
          await redis.xgroup('DESTROY', stream, group)
          return { ops: N, seconds }
        },
      },
      { name: RAW, run: () => timedDrain(redis, stream, BATCH) },
    ]
    // Reference rows and the ceiling: full runs only (quick runs check the target).
    if (!quick) {
      const events = Array.from({ length: N }, (_, i) => benchEvent(i))
      contenders.push(
        { name: NO_OP, run: () => noOpRuntimeRound(redis, stream, N, BATCH) },
        {
          // Ceiling of the handler: the same transaction and uniques on events already decoded, no stream.
          name: INGEST_ALONE,
          run: async (): Promise<Measurement> => {
            round++
            const { database, uniques } = await analyticsStores(
              redis,
              `file:${join(dir, `analytics-${round}.db`)}`,
              `${prefix}${round}:`,
            )
            const ingest = createIngest({ db: database.db, uniques })
            const start = performance.now()
            for (let i = 0; i < N; i += BATCH) await ingest.ingestBatch(events.slice(i, i + BATCH))
            const seconds = (performance.now() - start) / 1000
            await database.close()
            return { ops: N, seconds }
          },
        },
        {
          // What overlapping the ingest's commit with the stream work could reach at best on this machine: the
          // main thread reads and decodes batch i+1 and adds its uniques while the worker commits batch i (the
          // runtime handles one batch at a time, so its handler never gets there).
          name: OVERLAP,
          run: async (): Promise<Measurement> => {
            round++
            const ingestWorker = worker as NonNullable<typeof worker>
            const url = `file:${join(dir, `analytics-${round}.db`)}`
            await ingestWorker.control({ type: 'open', url })
            const { database, uniques } = await analyticsStores(redis, url, `${prefix}${round}:`)
            const group = `overlap-${round}`
            await redis.xgroup('CREATE', stream, group, '0')
            const start = performance.now()
            let previous: { ids: string[]; done: Promise<unknown> } | null = null
            for (;;) {
              const entries = await readNew(redis, stream, group, BATCH, 'c')
              const decoded: AnyEvent[] = []
              for (const [, fields] of entries) {
                const d = decodeEntry(fields)
                if (d.ok) decoded.push(d.event)
              }
              const hits = decoded.flatMap((e) =>
                e.actor
                  ? [
                      {
                        at: Date.parse(e.occurredAt),
                        type: e.type,
                        tenantId: e.tenantId ?? '',
                        actorId: `${e.actor.type}:${e.actor.id}`,
                      },
                    ]
                  : [],
              )
              const current =
                entries.length === 0
                  ? null
                  : {
                      ids: entries.map(([id]) => id),
                      done: Promise.all([
                        ingestWorker.call({ type: 'ingest', id: 0, events: decoded }),
                        uniques.add(hits),
                      ]),
                    }
              if (previous) {
                await previous.done
                await redis.xack(stream, group, ...previous.ids)
              }
              previous = current
              if (!current) break
            }
            const seconds = (performance.now() - start) / 1000
            await ingestWorker.control({ type: 'close' })
            await database.close()
            await redis.xgroup('DESTROY', stream, group)
            return { ops: N, seconds }
          },
        },
        { name: RAW_100, run: () => timedRawDrain(redis, stream, `raw-${crypto.randomUUID().slice(0, 8)}`) },
      )
    }
    const result = await compare({
      title: `analytics ingest of ${N.toLocaleString('en-US')} prefilled events, fresh database each round`,
      unit: 'events/s',
      contenders,
    })
    const check = ratioTarget(result, {
      name: 'analytics consumer ÷ raw drain at the same batch size',
      contender: CONSUMER,
      baseline: RAW,
      limit: TARGET,
    })
    return reportOf(
      result,
      RAW,
      [check],
      [
        `The analytics side is the service's own handler (\`createEveryEventHandler\` over \`createIngest\`, batch ${BATCH}, as \`deps.ts\` wires it): per batch, one libSQL write transaction that records the event ids and skips those counted before, upserts the per-minute counters, marks their hours and days for the rollups and merges duration sketches (exactly-once counting), with the uniques going into Redis HyperLogLogs beside it; the batch is acked after both. A fresh database file and Redis prefix each round. The baseline reads ${BATCH} entries per XREADGROUP, the consumer's own batch size; the COUNT 100 loop of the drain benchmark and the stream runtime with a no-op handler are shown beside it, and so is the best case of overlapping the write with the stream work: a plain loop that reads and decodes batch i+1 and adds its uniques on the main thread while a worker thread (kept across rounds, so warm) commits batch i's counts, acking each batch after its commit.`,
        quick
          ? ''
          : reachOf(result, {
              ceilingName:
                'The stream runtime alone (no-op handler) and the ingest alone, one after the other (each round’s rates),',
              ceiling: serialRates(result, [NO_OP, INGEST_ALONE]),
              contender: CONSUMER,
              baseline: RAW,
              baselineName: 'the raw drain',
              limit: TARGET,
            }),
        PROFILE,
      ],
    )
  } finally {
    worker?.terminate()
    await redis.del(stream)
    await deleteKeys(redis, `${prefix}*`)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  console.log((await report({ quick: process.argv.includes('--quick') })).markdown)
  process.exit(0)
}
