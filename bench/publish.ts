/** Publish throughput: the streams publisher against raw ioredis XADD and redis-benchmark, 100 in flight. */
import { encodeEntry } from '@flotilla/contracts'
import { createPublisher, createRedisConnection } from '@flotilla/streams'
import Redis from 'ioredis'
import { benchEntry, benchEvent, benchStream, withInFlight } from './lib/fixtures.ts'
import { type ComparisonResult, compare, section, timed } from './lib/harness.ts'
import { REDIS_URL, redisPort } from './lib/redis.ts'

const N = Number(process.env.BENCH_PUBLISH_EVENTS ?? 20_000)
const IN_FLIGHT = 100

/** redis-benchmark's own XADD rate (its C client, 100 connections), when the tool is installed. */
const redisBenchmark = async (stream: string): Promise<number | undefined> => {
  if (!Bun.which('redis-benchmark')) return undefined
  const [, , , json] = benchEntry(0)
  const proc = Bun.spawn(
    [
      'redis-benchmark',
      '-p',
      String(redisPort),
      '-q',
      '-n',
      String(N),
      '-c',
      String(IN_FLIGHT),
      'XADD',
      stream,
      '*',
      'type',
      'user.login.succeeded',
      'event',
      json,
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const text = await new Response(proc.stdout).text()
  await proc.exited
  const match = text.match(/([\d.]+) requests per second/)
  return match ? Number(match[1]) : undefined
}

export const run = async (): Promise<{ result: ComparisonResult; notes: string[] }> => {
  const raw = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true })
  await raw.connect()
  const producer = createRedisConnection(REDIS_URL, 'producer')
  const stream = benchStream('publish')
  const publisher = createPublisher({ redis: producer, stream })
  const events = Array.from({ length: N }, (_, i) => benchEvent(i))
  const entries = events.map((e) => encodeEntry(e))
  const reset = async () => void (await raw.del(stream))
  try {
    const result = await compare({
      title: `publish ${N.toLocaleString('en-US')} events, ${IN_FLIGHT} in flight`,
      unit: 'events/s',
      contenders: [
        {
          name: 'raw ioredis XADD',
          prepare: reset,
          run: () => timed(N, () => withInFlight(N, IN_FLIGHT, (i) => raw.xadd(stream, '*', ...entries[i]!))),
        },
        {
          name: 'publisher.publish',
          prepare: reset,
          run: () => timed(N, () => withInFlight(N, IN_FLIGHT, (i) => publisher.publish(events[i]!))),
        },
        {
          name: 'publisher.publishBatch (100)',
          prepare: reset,
          run: () =>
            timed(N, () =>
              withInFlight(Math.ceil(N / 100), 1, (b) =>
                publisher.publishBatch(events.slice(b * 100, b * 100 + 100)),
              ),
            ),
        },
      ],
    })
    const notes: string[] = []
    const rb = await redisBenchmark(stream)
    if (rb !== undefined) {
      const rawMedian = result.results[0]!.median
      notes.push(
        `redis-benchmark XADD (C client, ${IN_FLIGHT} connections, one run): ${Math.round(rb).toLocaleString('en-US')} events/s — ${(rawMedian / rb).toFixed(2)}× of it for raw ioredis.`,
      )
    }
    return { result, notes }
  } finally {
    await raw.del(stream)
    raw.disconnect()
    producer.disconnect()
  }
}

/** The markdown section for docs/benchmarks.md. */
export const report = async (): Promise<string> => {
  const { result, notes } = await run()
  if (!Bun.which('redis-benchmark'))
    notes.push(
      'redis-benchmark is not installed (`apt-get install -y redis-tools`): its XADD baseline is missing.',
    )
  return section(result, 'raw ioredis XADD', '≥ 0.8× raw client', notes)
}

if (import.meta.main) {
  console.log(await report())
  process.exit(0)
}
