/**
 * Notification throughput. (a) The notifications consumer (rules, preferences, template rendering, delivery
 * records, idempotent sends through the outbox transport, outcome events) working through prefilled
 * `notification.requested` events, beside the raw XREADGROUP + XACK drain of the same events and a BullMQ peer
 * doing the same per-message work at the same concurrency. (b) The consumer against a fake Resend answering after
 * 20 ms (its own process, the real SDK pointed at it), at several concurrency settings.
 */
import { join } from 'node:path'
import { createEvent, encodeEntry } from '@flotilla/contracts'
import { createNotificationConsumer } from '@flotilla/notifications'
import { createTestApp, type TestApp } from '@flotilla/notifications/testing'
import { Queue, Worker } from 'bullmq'
import Redis from 'ioredis'
import Database from 'libsql'
import { benchStream } from './lib/fixtures.ts'
import {
  type BenchOptions,
  type BenchReport,
  compare,
  type Measurement,
  ratioTarget,
  reportOf,
  section,
  timeConsumer,
} from './lib/harness.ts'
import { timedRawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { startServer } from './lib/servers.ts'

const RAW = 'raw XREADGROUP COUNT 100 + XACK per batch'
/** Events handled at once, on both sides of (a): the consumer's batch, BullMQ's worker concurrency. */
const CONCURRENCY = 64
const FLOTILLA = `notifications consumer (concurrency ${CONCURRENCY}, outbox)`
const BULLMQ = `BullMQ worker (concurrency ${CONCURRENCY}): render + delivery row + outbox row`
const RESEND_LATENCY_MS = 20

const requestOf = (i: number) => ({
  recipient: { userId: `u_${i}`, email: `user${i}@example.com` },
  template: 'password-reset',
  data: { resetUrl: `https://app.example.com/reset/${i}`, expiresInMinutes: 30 },
})
const requested = (i: number) => createEvent('notification.requested', requestOf(i), { source: 'monolith' })

const fill = async (redis: Redis, stream: string, n: number) => {
  for (let i = 0; i < n; i += 1000) {
    const pipeline = redis.pipeline()
    for (let j = i; j < Math.min(n, i + 1000); j++) pipeline.xadd(stream, '*', ...encodeEntry(requested(j)))
    await pipeline.exec()
  }
}

/** One consumer round over a fresh app (database, Redis prefix, stream): sends are idempotent per event id. */
const consumerRound = async (app: TestApp, n: number, concurrency: number): Promise<Measurement> => {
  let done = 0
  const consumer = createNotificationConsumer({
    redisUrl: REDIS_URL,
    stream: app.stream,
    handlerDeps: app.core.handlerDeps,
    blockMs: 200,
    concurrency,
    hooks: {
      onProcessed: (info) => {
        if (info.type === 'notification.requested') done++
      },
    },
  })
  const seconds = await timeConsumer(consumer, () => done >= n)
  const sent = (await app.core.deliveries.countByStatus()).sent ?? 0
  if (sent !== n) throw new Error(`expected ${n} sent deliveries, found ${sent}`)
  return { ops: n, seconds }
}

// The BullMQ side writes what the service writes per message, into the same tables (the service's migrations).
const DELIVERY_INSERT = `INSERT INTO deliveries (id, event_id, event_type, channel, recipient, address, user_id,
  template, locale, category, critical, content, status, provider, provider_message_id, sent_at, created_at,
  updated_at) VALUES (?, ?, 'notification.requested', 'email', ?, ?, ?, 'password-reset', 'en', 'account', 0, ?,
  'sent', 'outbox', ?, ?, ?, ?) ON CONFLICT DO NOTHING`
const OUTBOX_INSERT = `INSERT INTO outbox (id, idempotency_key, channel, recipient, subject, body, html, created_at)
  VALUES (?, ?, 'email', ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`

/**
 * One BullMQ round: jobs added with addBulk (not timed), a worker at the same concurrency renders the same
 * template with the service's registry and writes the delivery row and the outbox message through statements
 * prepared once (the synchronous libsql driver, WAL, `synchronous = FULL`, as the service: a job completes only
 * once its rows are on disk). The jobs running at once share their commit: each job's rows join the transaction
 * of the current turn of the event loop, and every job of it completes when that commits (a group commit — one
 * fsync for up to the whole concurrency instead of one per job).
 */
const bullmqRound = async (n: number) => {
  const app = await createTestApp()
  const prefix = `bench:bullmq:${crypto.randomUUID().slice(0, 8)}`
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('notifications', { connection, prefix })
  for (let i = 0; i < n; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
        const event = requested(i + j)
        return {
          name: 'notification.requested',
          data: { id: event.id, ...requestOf(i + j) },
          opts: { removeOnComplete: true, removeOnFail: 1000 },
        }
      }),
    )
  const db = new Database(join(app.dir, 'notifications.db'))
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA busy_timeout = 5000')
  const insertDelivery = db.prepare(DELIVERY_INSERT)
  const insertOutbox = db.prepare(OUTBOX_INSERT)
  type Rows = { delivery: unknown[]; outbox: unknown[] }
  const writeAll = db.transaction((all: Rows[]) => {
    for (const { delivery, outbox } of all) {
      insertOutbox.run(outbox)
      insertDelivery.run(delivery)
    }
  })
  let pending: { rows: Rows; done: () => void; failed: (error: unknown) => void }[] = []
  const write = (rows: Rows) =>
    new Promise<void>((done, failed) => {
      if (pending.length === 0)
        setImmediate(() => {
          const group = pending
          pending = []
          try {
            writeAll(group.map((p) => p.rows))
            for (const p of group) p.done()
          } catch (error) {
            for (const p of group) p.failed(error)
          }
        })
      pending.push({ rows, done, failed })
    })
  const { registry } = app.core
  return {
    async run(): Promise<Measurement> {
      let done = 0
      const start = performance.now()
      const worker = new Worker(
        'notifications',
        async (job) => {
          const { id, recipient, data } = job.data as { id: string } & ReturnType<typeof requestOf>
          const { messages } = registry.render('password-reset', {
            channels: ['email'],
            locale: 'en',
            data,
            recipient: { locale: 'en' },
          })
          const message = messages[0]
          if (message?.channel !== 'email') throw new Error('no email rendered')
          const now = Date.now()
          const deliveryId = `${id}:email`
          const outboxId = Bun.randomUUIDv7()
          await write({
            delivery: [
              deliveryId,
              id,
              recipient.email,
              JSON.stringify({ channel: 'email', email: recipient.email }),
              recipient.userId,
              JSON.stringify(message),
              outboxId,
              now,
              now,
              now,
            ],
            outbox: [
              outboxId,
              `flotilla-notification-${deliveryId}-outbox`,
              recipient.email,
              message.subject,
              message.text,
              message.html,
              now,
            ],
          })
        },
        {
          connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
          prefix,
          concurrency: CONCURRENCY,
        },
      )
      worker.on('completed', () => {
        done++
      })
      while (done < n) await Bun.sleep(5)
      const seconds = (performance.now() - start) / 1000
      await worker.close()
      const count = db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }
      if (count.n !== n) throw new Error(`expected ${n} outbox rows, found ${count.n}`)
      return { ops: n, seconds }
    },
    async close() {
      await queue.obliterate({ force: true })
      await queue.close()
      connection.disconnect()
      db.close()
      await app.close()
    },
  }
}

const NOTES_A = [
  `Each request goes through the service's own consumer (\`createNotificationConsumer\`, concurrency ${CONCURRENCY}): the consumer hands the events it holds at once to the handler map, which coalesces them into one batch (graphql/dataloader) — the directory upsert, one opt-out query, the \`password-reset\` template rendered per message (LiquidJS, parsed once per template), one insert of every delivery row, one claim with its attempt rows, one outbox insert, one settle, one publish of the batch's \`notification.sent\`, one published marker. Every request is still decided alone (quiet hours, throttle, schedule, opt-outs), and the claim still takes only a \`queued\` row, so a redelivery never sends twice (\`apps/notifications/src/handlers/batch.test.ts\`). A fresh app (libSQL file, Redis prefix, stream) each round.`,
  `The BullMQ peer does less per message than the service: jobs prefilled with \`addBulk\` (\`removeOnComplete\`), a worker at the same concurrency renders the same template through the same registry and writes the delivery row (already \`sent\`) and the outbox message in one transaction, through statements prepared once on the synchronous libsql driver (WAL, \`synchronous = NORMAL\`) — no claim or attempt rows, no directory, no outcome event.`,
]

/** (b) The consumer against the fake Resend at several concurrency settings. */
const resendScaling = async (quick: boolean) => {
  const levels = quick ? [8, 64] : [1, 8, 32, 64]
  const n = quick ? 64 : 320
  const server = await startServer<{ apiKey: string }>(join(import.meta.dir, 'servers', 'fake-resend.ts'), {
    FAKE_RESEND_LATENCY_MS: String(RESEND_LATENCY_MS),
  })
  let app: TestApp | undefined
  try {
    const result = await compare({
      title: `notifications: ${n} notification.requested through the Resend SDK to a fake answering after ${RESEND_LATENCY_MS} ms`,
      unit: 'requests/s',
      contenders: levels.map((concurrency) => ({
        name: `concurrency ${concurrency}`,
        prepare: async () => {
          app = await createTestApp({
            // No rate on the provider: the sends of a batch go out together (a rate spaces them one by one).
            settings: { rateLimits: {}, providerTimeoutMs: 5000 },
            transports: { resend: { apiKey: server.info.apiKey, baseUrl: server.url } },
          })
          await fill(app.redis, app.stream, n)
        },
        // c = 1 sends one at a time: fewer events keep its round near the others' length.
        run: async () => {
          const t = app as TestApp
          try {
            return await consumerRound(t, n, concurrency)
          } finally {
            await t.close()
            app = undefined
          }
        },
      })),
    })
    const base = `concurrency ${levels[0]}`
    return section(result, base, undefined, [
      `The provider's latency dominates: at concurrency c the consumer holds c events, and their sends run at once (the batch's sends in parallel, each through the Resend SDK with its idempotency key), so the rate grows with c until the process's own work per message (about what the outbox rows above show) takes over. ${1000 / RESEND_LATENCY_MS} requests/s per concurrent send is the ceiling the latency sets.`,
    ])
  } finally {
    await app?.close()
    await server.stop()
  }
}

/** The markdown section and the BullMQ target. */
export const report = async ({ quick = false }: BenchOptions = {}): Promise<BenchReport> => {
  const N = Number(process.env.BENCH_NOTIFICATION_REQUESTS ?? (quick ? 300 : 10_000))
  const redis = new Redis(REDIS_URL)
  const rawStream = benchStream('notifications-raw')
  let app: TestApp | undefined
  let bull: Awaited<ReturnType<typeof bullmqRound>> | undefined
  try {
    await fill(redis, rawStream, N)
    const result = await compare({
      title: `notifications: ${N.toLocaleString('en-US')} prefilled notification.requested (email, outbox transport)`,
      unit: 'requests/s',
      contenders: [
        {
          name: FLOTILLA,
          prepare: async () => {
            app = await createTestApp({ settings: { rateLimits: { resend: 1_000_000 } } })
            await fill(app.redis, app.stream, N)
          },
          run: async () => {
            const t = app as TestApp
            try {
              return await consumerRound(t, N, CONCURRENCY)
            } finally {
              await t.close()
              app = undefined
            }
          },
        },
        {
          name: BULLMQ,
          prepare: async () => {
            bull = await bullmqRound(N)
          },
          run: async () => {
            const b = bull as NonNullable<typeof bull>
            try {
              return await b.run()
            } finally {
              await b.close()
              bull = undefined
            }
          },
        },
        {
          name: RAW,
          run: () => timedRawDrain(redis, rawStream, `raw-${crypto.randomUUID().slice(0, 8)}`),
        },
      ],
    })
    const check = ratioTarget(result, {
      name: 'notifications consumer ÷ BullMQ peer, same work, same concurrency',
      contender: FLOTILLA,
      baseline: BULLMQ,
      limit: 3,
    })
    const outbox = reportOf(result, RAW, [check], [...NOTES_A, PROFILE])
    const scaling = await resendScaling(quick)
    return { markdown: [outbox.markdown, scaling].join('\n\n'), checks: outbox.checks }
  } finally {
    await app?.close()
    await bull?.close()
    await redis.del(rawStream)
    redis.disconnect()
  }
}

const PROFILE = `What changed, measured side by side against the code before (commit 61f7896, from a copy: one request at a
time, concurrency 8, ~12 statements in 6 write transactions per request), alternating old and new runs of the same
prefilled stream on the same machine (2 shared cores; indicative): at 3,000 requests (load average 6–11) before
350 requests/s (305–460), after (concurrency 64) 1,832 (1,763–1,980), **5.2×** (4.0–6.5× per pair), process
CPU per request 1,804 → 431 µs (4.2×); again at 3,000 later (load average 4–5) before 453–490, after
1,998–2,212, **4.5×**, CPU 1,765–1,800 → 420–439 µs (4.1×); at 10,000 requests, cold processes (load average 5–10) before 312–314,
after 1,142–1,154, **3.7×**, CPU per request ~2,000 → 509–561 µs (3.9×). The full run of this benchmark
(2026-12-04, load average 5–13 before → 5 after) had the consumer at 2,979 requests/s (2,727–3,284) against the
BullMQ peer's 1,734 (1,609–1,807): 1.51–2.04× per round, median 1.69×; a \`--quick\` run (300 requests, 6.9 s,
load average 4.6) 3,307 against 1,998, 1.41–1.96× per round.

The 10× asked for (≥ ~11,900 requests/s on a quiet machine, ≤ ~84 µs per request) is not reached, nor 3× the
BullMQ peer: rendering the three templates and inserting the delivery row alone cost more than 84 µs here (79 + 54
µs of CPU, below), and the process is CPU-bound on one core (its CPU per request × its rate ≈ 1 s per second).

Where the CPU goes now (batches of 100 handed to \`handleEvents\` directly, process CPU time around each step,
3,000 requests): rendering 79 µs per request (three LiquidJS templates: subject, html, text;
the same three take 14 µs in a loop of their own and the registry's render 26 µs — the rest is cache and GC
pressure from the surrounding work), inserting the delivery rows 54 µs (the row has eight indexes), the claim
with its attempt rows 31–39 µs, settling (rows and attempts) 30–33 µs, the outbox rows 28–31 µs, the published
markers 12 µs, the opt-out query 7 µs; the ~150 µs left is the directory upsert, the outcome events (built,
validated, encoded, one pipelined XADD per batch), planning (three SHA-256 derived ids per request), decoding
and the stream runtime. A \`bun --cpu-prof\` of the same run has 37% of the samples under libSQL's
\`executeStmt\` (12% reading result rows, 8% preparing statements — a multi-row statement of 100 rows is parsed
anew each batch, the client keeps no statement cache — 7% running them) and ~19% in LiquidJS. Per request this is
every write the guarantees need, shared by the batch — the delivery row before the send, its claim and attempt,
the outbox message, the settle, the published marker — so the next steps are fewer row writes per request, not
fewer statements: a fresh delivery inserted already claimed (its attempt in the same transaction) would drop the
claim (~35 µs), and a statement cache (the synchronous libsql driver, as the BullMQ peer uses) the preparing.`

if (import.meta.main) {
  console.log((await report({ quick: process.argv.includes('--quick') })).markdown)
  process.exit(0)
}
