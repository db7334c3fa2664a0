/**
 * Fan-out: one XADD read by 4 consumer groups (no-op handlers) against BullMQ doing the same work — 4 queues,
 * one job per queue per event — with the same handler concurrency. Time from the first publish until all
 * four readers have handled every event.
 */
import { readFileSync } from 'node:fs'
import { createConsumer, createPublisher, createRedisConnection } from '@flotilla/streams'
import { Queue, Worker } from 'bullmq'
import type Redis from 'ioredis'
import { benchEvent, benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  compare,
  type Measurement,
  ratioTarget,
  reportOf,
} from './lib/harness.ts'
import { REDIS_URL } from './lib/redis.ts'

const GROUPS = 4
const CONCURRENCY = 16
const CHUNK = 100
const STREAMS = `streams: 1 XADD, ${GROUPS} groups`
const BULLMQ = `BullMQ: ${GROUPS} queues, 1 job each`

const bullmqVersion = () =>
  (
    JSON.parse(readFileSync(Bun.resolveSync('bullmq/package.json', import.meta.dir), 'utf8')) as {
      version: string
    }
  ).version

const waitUntil = async (done: () => boolean) => {
  while (!done()) await Bun.sleep(2)
}

type Round = { run: () => Promise<Measurement>; close: () => Promise<void> }

const streamsRound = async (redis: Redis, N: number): Promise<Round> => {
  const stream = benchStream('fanout')
  const events = Array.from({ length: N }, (_, i) => benchEvent(i))
  const publisher = createPublisher({ redis, stream })
  let handled = 0
  const consumers = Array.from({ length: GROUPS }, (_, g) =>
    createConsumer({
      redisUrl: REDIS_URL,
      stream,
      group: `g${g}`,
      startId: '$',
      concurrency: CONCURRENCY,
      blockMs: 200,
      handler: { handle: () => void handled++ },
    }),
  )
  await Promise.all(consumers.map((c) => c.start()))
  return {
    run: async () => {
      const start = performance.now()
      for (let i = 0; i < N; i += CHUNK) await publisher.publishBatch(events.slice(i, i + CHUNK))
      await waitUntil(() => handled >= N * GROUPS)
      return { ops: N, seconds: (performance.now() - start) / 1000 }
    },
    close: async () => {
      await Promise.all(consumers.map((c) => c.close()))
      await redis.del(stream)
    },
  }
}

const bullmqRound = async (N: number): Promise<Round> => {
  const prefix = `bench-bull-${crypto.randomUUID().slice(0, 8)}`
  const connection = { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) }
  const queues = Array.from({ length: GROUPS }, (_, g) => new Queue(`q${g}`, { connection, prefix }))
  let handled = 0
  const workers = Array.from(
    { length: GROUPS },
    (_, g) =>
      new Worker(
        `q${g}`,
        async () => {
          handled++
        },
        { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency: CONCURRENCY },
      ),
  )
  await Promise.all([...queues, ...workers].map((x) => x.waitUntilReady()))
  const jobs = Array.from({ length: N }, (_, i) => ({
    name: 'user.login.succeeded',
    data: benchEvent(i),
    opts: { removeOnComplete: true, removeOnFail: true },
  }))
  return {
    run: async () => {
      const start = performance.now()
      for (let i = 0; i < N; i += CHUNK) {
        const chunk = jobs.slice(i, i + CHUNK)
        await Promise.all(queues.map((q) => q.addBulk(chunk)))
      }
      await waitUntil(() => handled >= N * GROUPS)
      return { ops: N, seconds: (performance.now() - start) / 1000 }
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()))
      for (const q of queues) {
        await q.obliterate({ force: true })
        await q.close()
      }
    },
  }
}

/** The markdown section for docs/benchmarks.md. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_FANOUT_EVENTS ?? (quick ? 1_000 : 4_000))
  const redis = createRedisConnection(REDIS_URL, 'producer')
  const roundOf = (make: () => Promise<Round>) => {
    let round: Round | undefined
    return {
      prepare: async () => {
        round = await make()
      },
      run: async () => {
        const m = await round!.run()
        await round!.close()
        return m
      },
    }
  }
  try {
    const result = await compare({
      title: `fan-out of ${N.toLocaleString('en-US')} events to ${GROUPS} readers, no-op handlers, concurrency ${CONCURRENCY}`,
      unit: 'events/s (each handled by all 4)',
      contenders: [
        { name: STREAMS, ...roundOf(() => streamsRound(redis, N)) },
        { name: BULLMQ, ...roundOf(() => bullmqRound(N)) },
      ],
    })
    const check = ratioTarget(result, {
      name: 'streams ÷ BullMQ',
      contender: STREAMS,
      baseline: BULLMQ,
      limit: 3,
    })
    return reportOf(
      result,
      BULLMQ,
      [check],
      [
        `Both sides publish in chunks of ${CHUNK} (\`publishBatch\`; \`Queue.addBulk\` on each of the ${GROUPS} queues) and run ${GROUPS} readers in this process (the streams consumer with \`handle\` and concurrency ${CONCURRENCY}; BullMQ \`Worker\` with concurrency ${CONCURRENCY}, jobs removed on completion). Timed from the first publish until every reader has handled every event. BullMQ ${bullmqVersion()}.`,
      ],
    )
  } finally {
    redis.disconnect()
  }
}

if (import.meta.main) {
  console.log((await report()).markdown)
  process.exit(0)
}
