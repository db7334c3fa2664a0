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
import { createTestApp, newDeliveryOf, type TestApp } from '@flotilla/notifications/testing'
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
  reachOf,
  reportOf,
  section,
  timeConsumer,
  timed,
} from './lib/harness.ts'
import { timedRawDrain } from './lib/prefill.ts'
import { REDIS_URL } from './lib/redis.ts'
import { startServer } from './lib/servers.ts'

const RAW = 'raw XREADGROUP COUNT 100 + XACK per batch'
/** Events handled at once, on both sides of (a): the consumer's batch, BullMQ's worker concurrency. */
const CONCURRENCY = 64
const FLOTILLA = `notifications consumer (concurrency ${CONCURRENCY}, outbox)`
const BULLMQ = `BullMQ worker (concurrency ${CONCURRENCY}): render + delivery row + outbox row`
const STORAGE = `ceiling: the consumer's batched writes alone (its stores, batches of ${CONCURRENCY}, one commit each, no stream, no render)`
const STORAGE_RAW = `ceiling: the same rows and reads through statements prepared once (the libsql driver, one row per statement, batches of ${CONCURRENCY}, one commit each)`
const STORAGE_CLAIM = `the same writes through the path that claims (four commits per batch: the outbox path before 2026-12-04)`
const RENDER = 'ceiling: the template rendered alone (registry.render per request)'
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

type Core = TestApp['core']
type NewDelivery = Parameters<Core['batchStore']['insertMany']>[0][number]
type DeliveryRow = Awaited<ReturnType<Core['batchStore']['getMany']>> extends Map<string, infer R> ? R : never

/** What the consumer renders for request i (the same call as the service's batch path and the BullMQ peer). */
const renderOf = (core: Core, i: number) => {
  const { messages } = core.registry.render('password-reset', {
    channels: ['email'],
    locale: 'en',
    data: requestOf(i).data,
    recipient: { locale: 'en' },
  })
  const message = messages[0]
  if (message?.channel !== 'email') throw new Error('no email rendered')
  return message
}

type Batch = { contacts: { userId: string; email: string }[]; deliveries: NewDelivery[] }

/** The rows of `n` requests in batches of ${CONCURRENCY}: directory inputs and queued deliveries, rendered (untimed). */
const batchesOf = (core: Core, n: number): Batch[] => {
  const batches: Batch[] = []
  for (let i = 0; i < n; i += CONCURRENCY) {
    const ids = Array.from({ length: Math.min(CONCURRENCY, n - i) }, (_, j) => i + j)
    batches.push({
      contacts: ids.map((k) => ({ userId: `u_${k}`, email: `user${k}@example.com` })),
      deliveries: ids.map((k) => {
        const eventId = Bun.randomUUIDv7()
        return newDeliveryOf(`${eventId}:email`, {
          eventId,
          recipient: `user${k}@example.com`,
          address: JSON.stringify({ channel: 'email', email: `user${k}@example.com` }),
          userId: `u_${k}`,
          content: JSON.stringify(renderOf(core, k)),
          requestKey: eventId,
        })
      }),
    })
  }
  return batches
}

/** The outbox requests of `deliveries` (what the service sends through `sendBatchWithin`). */
const outboxRequests = (deliveries: readonly (NewDelivery | DeliveryRow)[]) =>
  deliveries.map((d) => ({
    address: JSON.parse(d.address as string),
    message: JSON.parse(d.content as string),
    idempotencyKey: `flotilla-notification-${d.id}-outbox`,
  }))

/**
 * A ceiling: the writes the consumer makes per batch of ${CONCURRENCY}, through its own stores on a fresh libSQL
 * file (synchronous = FULL), with nothing else — no stream, no rendering (done before, untimed), no decisions, no
 * publish. `oneCommit`: as the consumer now writes a batch due now through the outbox — the directory upsert, the
 * deliveries inserted already sent with their attempts and the outbox messages in one transaction, the published
 * markers riding in the next; else the path that claims, four commits: the directory upsert, the delivery insert,
 * the claim + outbox + settle transaction, the published markers.
 */
const storageRound = async (n: number, oneCommit: boolean) => {
  const app = await createTestApp()
  const { core } = app
  const outbox = core.transports.email[0]
  if (!outbox?.sendBatchWithin) throw new Error('the email transport is not the local outbox')
  const sendWithin = outbox.sendBatchWithin.bind(outbox)
  const batches = batchesOf(core, n)
  const oneTransaction = async (batch: Batch) => {
    const byId = new Map(batch.deliveries.map((d) => [d.id, d]))
    const { inserted } = await core.batchStore.insertAndSendMany(
      batch.deliveries.map((delivery) => ({ delivery, provider: 'outbox' })),
      Date.now() + 60_000,
      async (tx) => {
        await core.contacts.upsertManyWithin(tx, batch.contacts)
      },
      async (tx, fresh) => {
        const answers = await sendWithin(tx, outboxRequests(fresh.map((id) => byId.get(id) as NewDelivery)))
        return new Map(fresh.map((id, i) => [id, answers[i] as NonNullable<(typeof answers)[number]>]))
      },
    )
    core.batchStore.markPublishedLater([...inserted.keys()], 'sent')
  }
  const claimed = async (batch: Batch) => {
    await core.contacts.upsertMany(batch.contacts)
    const { rows } = await core.batchStore.insertMany(batch.deliveries)
    const byId = new Map([...rows.values()].map((row) => [row.id, row]))
    const done = await core.batchStore.claimAndSendMany(
      [...byId.keys()].map((id) => ({ id, provider: 'outbox' })),
      Date.now() + 60_000,
      async (tx, taken) => {
        const answers = await sendWithin(tx, outboxRequests(taken.map((id) => byId.get(id) as DeliveryRow)))
        return new Map(taken.map((id, i) => [id, answers[i] as NonNullable<(typeof answers)[number]>]))
      },
    )
    // The markers in a commit of their own, as this path wrote them.
    core.batchStore.markPublishedLater([...done.keys()], 'sent')
    await core.batchStore.flushMarkers()
  }
  return {
    async run(): Promise<Measurement> {
      const start = performance.now()
      for (const batch of batches) await (oneCommit ? oneTransaction(batch) : claimed(batch))
      await core.batchStore.flushMarkers()
      const seconds = (performance.now() - start) / 1000
      const sent = (await core.deliveries.countByStatus()).sent ?? 0
      if (sent !== n) throw new Error(`expected ${n} sent deliveries, found ${sent}`)
      return { ops: n, seconds }
    },
    close: () => app.close(),
  }
}

// The ceiling below writes what the stores write per request, row for row and value for value (the directory
// upsert, the delivery inserted `sent` with its attempt, the outbox message, the published marker).
const CONTACT_UPSERT = `INSERT INTO contacts (user_id, email, phone, locale, timezone, updated_at) VALUES (?, ?, NULL, NULL, NULL, ?)
  ON CONFLICT (user_id) DO UPDATE SET email = coalesce(excluded.email, contacts.email),
  phone = coalesce(excluded.phone, contacts.phone), locale = coalesce(excluded.locale, contacts.locale),
  timezone = coalesce(excluded.timezone, contacts.timezone), updated_at = excluded.updated_at`
const SENT_INSERT = `INSERT INTO deliveries (id, event_id, event_type, channel, recipient, address, user_id, template,
  locale, category, critical, content, status, request_key, created_at, updated_at, attempts, lease_until, provider,
  provider_message_id, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, 1, 0, 'outbox', ?, ?)
  ON CONFLICT DO NOTHING`
const ATTEMPT_INSERT = `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, provider)
  VALUES (?, 1, ?, ?, 'sent', 'outbox')`
const MARKER_UPDATE =
  "UPDATE deliveries SET published_status = 'sent' WHERE id = ? AND published_status IS NULL"

/**
 * A ceiling: the rows the stores write per batch of ${CONCURRENCY} (as `storageRound`), through statements prepared
 * once on the synchronous libsql driver, one row per statement, one transaction per batch (WAL, `synchronous =
 * FULL`), with the reads the stores make first — whether each delivery exists (by event id), whether its request
 * was cancelled, whether its outbox key was stored — and the previous batch's markers in the transaction. No
 * store, no client, no result rows: what these rows cost SQLite on this disk.
 */
const rawStorageRound = async (n: number) => {
  const app = await createTestApp()
  const batches = batchesOf(app.core, n)
  const db = new Database(join(app.dir, 'notifications.db'))
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA busy_timeout = 5000')
  const contact = db.prepare(CONTACT_UPSERT)
  const found = db.prepare('SELECT id FROM deliveries WHERE event_id = ?')
  const cancelled = db.prepare('SELECT 1 FROM cancelled_requests WHERE request_key = ?')
  const stored = db.prepare('SELECT id FROM outbox WHERE idempotency_key = ?')
  const message = db.prepare(OUTBOX_INSERT)
  const delivery = db.prepare(SENT_INSERT)
  const attempt = db.prepare(ATTEMPT_INSERT)
  const marker = db.prepare(MARKER_UPDATE)
  let owed: string[] = []
  const write = db.transaction((batch: Batch) => {
    for (const id of owed) marker.run(id)
    const now = Date.now()
    for (const c of batch.contacts) contact.run([c.userId, c.email, now])
    const sent: string[] = []
    for (const d of batch.deliveries) {
      const key = `flotilla-notification-${d.id}-outbox`
      if (found.get(d.eventId) || (d.requestKey && cancelled.get(d.requestKey)) || stored.get(key)) continue
      const m = JSON.parse(d.content as string) as { subject: string; text: string; html: string }
      const outboxId = Bun.randomUUIDv7()
      message.run([outboxId, key, d.recipient, m.subject, m.text, m.html, now])
      delivery.run([
        d.id,
        d.eventId,
        d.eventType,
        d.channel,
        d.recipient,
        d.address,
        d.userId,
        d.template,
        d.locale,
        d.category,
        d.critical ? 1 : 0,
        d.content,
        d.requestKey ?? null,
        now,
        now,
        outboxId,
        now,
      ])
      attempt.run([d.id, now, now])
      sent.push(d.id)
    }
    return sent
  })
  return {
    async run(): Promise<Measurement> {
      const start = performance.now()
      for (const batch of batches) {
        owed = write(batch)
        await null // one turn per batch, as the stores' path yields
      }
      db.transaction(() => {
        for (const id of owed) marker.run(id)
      })()
      const seconds = (performance.now() - start) / 1000
      const { sent } = db
        .prepare(
          "SELECT count(*) AS sent FROM deliveries WHERE status = 'sent' AND published_status = 'sent'",
        )
        .get() as { sent: number }
      if (sent !== n) throw new Error(`expected ${n} sent deliveries, found ${sent}`)
      return { ops: n, seconds }
    },
    async close() {
      db.close()
      await app.close()
    },
  }
}

/** A ceiling: the template rendered alone, per request, through the service's registry. */
const renderRound = async (n: number) => {
  const app = await createTestApp()
  return {
    run: (): Promise<Measurement> =>
      timed(n, async () => {
        for (let i = 0; i < n; i++) renderOf(app.core, i)
      }),
    close: () => app.close(),
  }
}

const NOTES_A = [
  `Each request goes through the service's own consumer (\`createNotificationConsumer\`, concurrency ${CONCURRENCY}): the consumer hands the events it holds at once to the handler map, which coalesces them into one batch (graphql/dataloader) — one read of the directory rows the batch's upsert will leave (\`ContactStore.expectMany\`), one opt-out query, the \`password-reset\` template rendered per message (LiquidJS, parsed once per template), then, every request of the batch being due now through the local outbox (the outbox's messages are rows of the same database: \`Transport.sendBatchWithin\`), one transaction that writes the directory upsert, stores the outbox messages and inserts every delivery row already \`sent\` with its attempt (\`DeliveryService.recordAndDeliver\`), one publish of the batch's \`notification.sent\`, and the published markers, which ride in the next batch's transaction — one durable commit per batch (libSQL file, WAL, \`synchronous = FULL\`; plus one for the markers when 100 ms pass without a batch). A batch holding anything else (a request scheduled, held, throttled, digested, opted out or without an address, a provider with a rate or outside the database) takes the path that claims: directory upsert, delivery insert, claim + send + settle, three commits and the markers. Every request is still decided alone (quiet hours, throttle, schedule, opt-outs) on the directory rows the upsert leaves — when it leaves others than those read (another writer meanwhile), the transaction rolls back and the batch is decided again —, the claim still takes only a \`queued\` row, and a batch dying inside its transaction leaves nothing (no directory row, delivery, message, attempt or event), so a redelivery never sends twice (\`apps/notifications/src/handlers/batch.test.ts\`). A fresh app (libSQL file, Redis prefix, stream) each round.`,
  `The BullMQ peer does less per message than the service: jobs prefilled with \`addBulk\` (\`removeOnComplete\`), a worker at the same concurrency renders the same template through the same registry and writes the delivery row (already \`sent\`) and the outbox message through statements prepared once on the synchronous libsql driver (WAL, \`synchronous = FULL\` as the service) — no claim or attempt rows, no directory, no outcome event. BullMQ has no batch worker (batches are a BullMQ Pro feature), so the peer commits as a competent worker would: the jobs running in one turn of the event loop share one transaction, and each completes once it has committed (a group commit: measured side by side at load average 1.9–3.7, 2.4–4.5 thousand jobs/s against 1.1–2.1 thousand for one commit per job, at FULL or NORMAL alike).`,
  `The ceiling rows isolate the parts: the consumer's writes through its own stores alone (one transaction per batch of ${CONCURRENCY}: the directory upsert, the deliveries inserted \`sent\` with their attempts, the outbox messages, the previous batch's markers; no stream, no render, no decisions, no publish), the same rows and the same reads through statements prepared once on the synchronous libsql driver, one row per statement (the limit this schema sets on this disk: no store, no client, no result rows — the stores' batched statements add what separates the two), the same writes through the path that claims (four commits per batch: directory upsert, delivery insert, claim + outbox + settle transaction, markers — how the consumer wrote an outbox batch before), and the template rendered alone. The consumer's rate cannot exceed the first.`,
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
        ...[
          { name: STORAGE, make: (n: number) => storageRound(n, true) },
          { name: STORAGE_RAW, make: rawStorageRound },
          { name: STORAGE_CLAIM, make: (n: number) => storageRound(n, false) },
          { name: RENDER, make: renderRound },
        ].map(({ name, make }) => {
          let round: Awaited<ReturnType<typeof make>> | undefined
          return {
            name,
            prepare: async () => {
              round = await make(N)
            },
            run: async () => {
              const r = round as NonNullable<typeof round>
              try {
                return await r.run()
              } finally {
                await r.close()
                round = undefined
              }
            },
          }
        }),
      ],
    })
    const check = ratioTarget(result, {
      name: 'notifications consumer ÷ BullMQ peer, same work, same concurrency',
      contender: FLOTILLA,
      baseline: BULLMQ,
      limit: 3,
    })
    // The rows alone, written raw, against 3× the peer in each round: when even they fall short, the target is
    // out of reach on this disk whatever the consumer does around them.
    const reach = reachOf(result, {
      ceilingName:
        'The same rows and reads written through statements prepared once (the raw ceiling row; no stream, render or decision; the peer writes two rows per message, the service four, plus its reads and the published marker)',
      ceiling: STORAGE_RAW,
      contender: FLOTILLA,
      baseline: BULLMQ,
      baselineName: 'the BullMQ peer',
      limit: 3,
    })
    const outbox = reportOf(result, RAW, [check], [...NOTES_A, reach, PROFILE])
    const scaling = await resendScaling(quick)
    return { markdown: [outbox.markdown, scaling].join('\n\n'), checks: outbox.checks }
  } finally {
    await app?.close()
    await bull?.close()
    await redis.del(rawStream)
    redis.disconnect()
  }
}

const PROFILE = `Where the time goes (a \`bun --cpu-prof\` of the consumer, 10,000 requests; process CPU and each libSQL
statement timed around its call, 5,000 requests; 2 shared cores). At \`synchronous = NORMAL\` (load average 1.3–1.5)
the consumer took 265–290 µs of CPU per request: SQL ~135 µs of it (COMMIT alone ~65 µs — WAL pages written for rows
whose keys are random: the derived delivery ids, the outbox keys, the attempts' key, each lands on its own index
page, so a batch dirties hundreds of pages; preparing statements ~24 µs — the client keeps no statement cache and a
batch's multi-row statements differ in length), LiquidJS ~12% of the samples (~35 µs: three templates, subject, html,
text, each compiled once and cached), and the rest ioredis, decoding, the outcome events and planning. Batch size is
a small lever: at concurrency 128 and 256 the same runs gave 3,441–3,731 requests/s and 282–315 µs of CPU per
request against 2,520–3,267 and 312–382 µs at 64 (load average 1.2–1.5), and at FULL on a loaded machine 989–1,478
against 857–1,487 requests/s — up to ~15% less CPU per request for four times the events in flight, each waiting
for its whole batch and redelivered together after a crash; the default stays 64.

Two changes here. (1) On the outbox, the claim, the outbox insert and the settle are one transaction instead of
three (six commits per batch → four); at NORMAL this is within noise (282–316 µs of CPU per request against
268–327 before), at FULL it is what counts: every commit now waits for an fsync, and side by side (load average 3.1–3.6) the
one-transaction path ran 2,157 and 2,681 requests/s against 1,618 and 2,056. (2) Local files run \`synchronous =
FULL\` (they ran NORMAL, under which a power cut could lose commits already acknowledged). On a loaded machine (load
average 8.4–8.9) the consumer then spent ~850 of its ~1,550 µs per request waiting in commits (about 15 ms per fsync),
and its rate fell to 642 requests/s: on a busy disk the fsyncs per batch set the rate. On a quiet one (load average
1.1–2.3, 10,000 requests, the second round of each process, alternating) FULL cost ~7%: 2,673–3,001 requests/s
against 2,888–3,221 at NORMAL, at the same 272–303 µs of CPU per request.

Fewer commits (2026-12-04): four per outbox batch → one. The batch is recorded and sent in one transaction with its
directory upsert — a delivery not yet written is nobody else's, so it is inserted already \`sent\` with its attempt (no
claim, no settle update) — and the published markers ride in the next batch's transaction. The events are published
before a marker is owed and the stream entries acked after the publish, so a marker lost to a crash loses no event:
only a redelivery of an entry not yet acked publishes it again, under its same id (as a crash between publish and
marker always could), and sends nothing again; a marker owed in the process counts as written. Side by side in one
process (main, the one transaction alone, and both; 10,000 requests, 8 interleaved rounds after a warm-up, load
average 0.8–1.1): 3,785 (3,501–3,955), 4,372 (3,972–4,741) and 4,585 (4,248–4,760) requests/s, at 264, 223 and 220 µs
of CPU per request; an earlier run at load average 2.1–2.7 gave medians 3,701, 4,550 and 4,267 (all rounds
2,027–5,127). The writes alone ran 12,703, 12,459 and 13,202 requests/s at one commit per batch against 9,002, 9,295
and 10,441 at four (three runs of this file, load average 0.5–3.3). The two commits the transaction saves are most of the gain; the
markers' own commit (a short update of rows just written) is within the noise of these runs. The consumer now runs
at about a third of its writes' ceiling: its CPU per request (~220 µs), not the fsyncs, sets its rate on a quiet disk.

The 10× asked for (≥ ~11,900 requests/s, ≤ ~84 µs per request) is out of reach on this machine, and so is 3× this
peer: the ceiling rows show why. Side by side at load average 2.5–2.6, the consumer's writes alone took 112–163 µs
of CPU per request and ran at 6,469–8,558 requests/s (145–207 µs and 1,857–2,318 at load average 7.9–8.2), the
template alone 30–34 µs, and the whole consumer 280–342 µs at 3,314–3,778 requests/s: the writes alone already cost
more than the 84 µs and stay below the rate asked for, before rendering (another ~32 µs) and before the ~120–150 µs of
the consumer's own work (reading, decoding, planning, derived ids, the outcome events and their publish, the stream
runtime's acks). The peer writes two rows per message where the service writes four (contact, delivery, attempt,
outbox) and, since the change above, inserts the delivery already sent and updates it once (its marker); with a group
commit it ran about as fast as the consumer, or faster, in those runs, and at twice its rate in the full run of
2026-12-04 07:58 (8,547 against 4,158 requests/s, load average ~1–3; the consumer's 4,158 is 3.5× the 1,187
requests/s this benchmark started from, on the same machine at \`synchronous = NORMAL\`). After the change, three
runs of this file at load average 0.5–3.3 gave the peer 5,413, 7,288 and 7,908 requests/s against the consumer's
3,269, 3,866 and 4,461 (noisy: the peer's rounds spanned 3,466–8,348).

Time-ordered delivery ids (2026-12-04). A delivery's id was the SHA-256 digest of (event, channel, recipient): a
random key, so each of a batch's 64 rows went to its own page of the primary key, of the attempts' key and of the
outbox's idempotency key, and every such page was written again to the WAL at the commit — while the ceiling rows
and the BullMQ peer key their rows by the event id, a UUIDv7, in time order. The id now carries its event's time in
its first 48 bits, the digest in the rest (\`timeOrderedId\`); a redelivery finds its row by the unique key, so a
row written under an earlier release's id is still found. Side by side (the consumer alone, 10,000 requests, 8 warm
rounds each, alternating processes, load average 2.4–3.1 with other work on the machine): 236 → 203 µs of CPU per
request and 3,645 → 4,441 requests/s (medians); an earlier pair at load average 4–5 read 269 → 209 µs. What is left is
CPU per request and the pages keyed by recipient (the directory's rows, the per-user index), random by nature.

Statements prepared once (2026-12-04). The writes alone cost ~50% more CPU than the same rows and reads through
statements prepared once on the driver (the ceiling row above; 112.5 against 75.1 µs per request, load average
1.4–2.7): @libsql/client prepares every statement again on each call — 23–28 µs per request, half of it the
batch's 64-row delivery insert (~0.85 ms per batch; 2.0–2.2 ms in isolation, 1.0–1.8 without the cancel-marker
\`CASE\`, which an attempted row — \`sent\`, \`sending\` — passes through unchanged). Two changes: that insert binds the status as given (the markers are still read in the
transaction, under the request locks on PostgreSQL), and a local file's client keeps its statements prepared
(\`db/local-client.ts\`: the library's surface over one connection of the same driver, an LRU of statements).
Side by side, alternating processes (10,000 requests, 6 rounds × 2 after 2 warm-up rounds, medians): the writes
alone 112.5 → 92.8 µs of CPU per request (9,082 → 10,764 requests/s; the raw row 75.7 in the same runs), the
whole consumer 234.0 → 193.6 µs (4,442 → 5,357 requests/s, load average 1.9–2.7). Timed around each statement
(separate runs), the batched statements now run for less than the raw row's one-row statements (~26 against ~45
µs per request); what separates the two is the stores' JavaScript around them. In the consumer the statements take ~33 µs per request and the commit's fsync
~3 ms per batch: the rest of its ~190 µs is rendering, decoding, planning and the stream.

The consumer's own JavaScript (2026-12-04, \`bun --cpu-prof\` of 5 rounds of 10,000 requests, main-thread samples
of the timed part, load average ~2–3): libSQL's native calls ~42% (the fsync waits included), rendering ~17%, the
stream runtime with ioredis ~11% (of which the socket writes of the publish, the reads and the acks ~2%, decoding
the entries ~2%), the collector ~6%, the service's own code ~13%, spread thin (no function above ~1.5%: the JSON
of content and address, the ids' SHA-256, the batch's maps). Two cuts: \`derivedId\` without a hasher object and
the split/join of its digest (1.3–1.5 → 0.4–0.5 µs per id, two per request), and the rendered message handed to
the outbox as is instead of parsed back from its content; with both, side by side in one process (8 rounds each,
alternating, load average 4.0–4.6), 195.5 → 186.3 µs of CPU per request and 3,752 → 4,192 requests/s (medians).
Rendering (the template alone, 20,000 renders, alternating processes, load average ~1): ~20 µs per message, of
which ~6–7 µs were the two \`{% if name %}\` of a request without the optional \`name\`: under \`strictVariables\`
each absent variable throws inside LiquidJS and \`lenientIf\` catches it (12–13 µs with \`strictVariables\` off,
not kept: an unguarded absent variable would render empty). A variable a part only tests now gets a nil default
instead (\`templates/engine.ts\`; read anywhere else, it still fails the render): 13.3–14.2 µs per message, and
the consumer 179.7 → 164.3 µs of CPU per request, 5,510 → 5,765 requests/s (medians, 8 rounds each in one
process, load average 1.3–1.5). \`ownPropertyOnly\` off and \`Error.stackTraceLimit = 0\` around the render
measured within the noise (not kept). The three changes against the commit before them, in one process (8 rounds
each after 2 warm-up rounds each, alternating, load average 1.1–1.2): 166.5 (158.3–186.3) → 149.7 (132.0–166.2)
µs of CPU per request, 5,885 (5,558–6,245) → 6,678 (6,213–7,165) requests/s, less CPU in every pair.`

if (import.meta.main) {
  console.log((await report({ quick: process.argv.includes('--quick') })).markdown)
  process.exit(0)
}
