/**
 * Three processes each of notifications, audit and analytics on one Redis and the stores of `lib/stores.ts`,
 * fed 20,000 distinct events with duplicates and poison entries while replicas are SIGKILLed and started again.
 * Every effect must happen exactly once: one welcome email per registration, one audit record per event in chains
 * that verify, one count per event, every poison entry dead-lettered with a reason in every group, and each
 * scheduled job run at most once per slot. Beside them run the notification workflows (`lib/workflows.ts`):
 * digests, a throttle, delayed and scheduled sends with cancels, quiet hours, all failing over from a dead provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { connectStream, createEventPublisher } from '@flotilla/sdk'
import { closeConnection, createRedisConnection } from '@flotilla/streams'
import { TEST_REDIS_URL } from '@flotilla/streams/testing'
import { type Cluster, startCluster } from './lib/cluster.ts'
import type { JobRun } from './lib/job-ledger.ts'
import {
  analyticsCounts,
  auditChains,
  auditCounts,
  type DeadLetterView,
  deadLetters,
  deliveries,
  groupSettled,
  outboxEmails,
  streamCensus,
  type Verification,
  verifyChain,
} from './lib/observe.ts'
import { REPLICATED_APPS, type ReplicatedApp, STORES } from './lib/stores.ts'
import {
  attemptFindings,
  buildWorkflows,
  type DeliveryView,
  digestFindings,
  driveWorkflows,
  type OutboxMessage,
  sentFindings,
  throttleFindings,
  timedFindings,
  WORKFLOW_DOMAIN,
  WORKFLOW_ENV,
  type WorkflowObservation,
  type WorkflowPlan,
  waitedSummary,
  workflowShare,
  workflowsSettled,
} from './lib/workflows.ts'
import { buildWorkload, seededRandom, type Workload } from './lib/workload.ts'

const EVENTS = 20_000
const REGISTRATIONS = 1_500
const DUPLICATES = 1_000
const POISON = 42
/** SIGKILLs per app while the events are published and drained. */
const KILLS_PER_APP = 2
/** How long a test that reads over HTTP may take (every chain verified, every dead letter listed, loaded cores). */
const READ_TIMEOUT_MS = 60_000
/** How long the system may take to settle after the last publish (2 loaded cores). */
const SETTLE_TIMEOUT_MS = 360_000

const seed = Number(process.env.REPLICAS_SEED ?? Date.now() % 1_000_000)
const random = seededRandom(seed)

/** How long a consistent moment must last: two of audit's checkpoint periods (2 s), one of them missed, and a margin. */
const QUIET_AFTER_MS = 5000

// Short job periods, so many slots pass during the run and three instances compete for each; notifications
// also gets the workflows' short windows and its dead first email provider.
const JOB_ENV: Partial<Record<ReplicatedApp, Record<string, string>>> = {
  notifications: WORKFLOW_ENV,
  audit: { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '2', AUDIT_RETENTION_INTERVAL_SECONDS: '1' },
  analytics: {
    ANALYTICS_JOBS_TICK_MS: '200',
    ANALYTICS_ROLLUP_INTERVAL_MS: '1000',
    ANALYTICS_UNIQUES_PERSIST_INTERVAL_MS: '1500',
    ANALYTICS_RETENTION_INTERVAL_MS: '2000',
  },
}

interface Snapshot {
  census: Awaited<ReturnType<typeof streamCensus>>
  settled: Record<ReplicatedApp, boolean>
  /** Recipients of the outbox's emails outside the workflows: the welcome emails. */
  emails: string[]
  /** The `notification.sent` events outside the workflows. */
  welcomeSent: number
  outbox: OutboxMessage[]
  deliveries: DeliveryView[]
  workflows: WorkflowObservation
  audit: Map<string, number>
  analytics: Map<string, number>
}

const diff = (expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>) => {
  const out: Record<string, { expected: number; actual: number }> = {}
  for (const type of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(type) ?? 0
    const a = actual.get(type) ?? 0
    if (e !== a) out[type] = { expected: e, actual: a }
  }
  return out
}

describe(`three replicas per app (stores: ${JSON.stringify(STORES)})`, () => {
  let cluster: Cluster
  let redis: ReturnType<typeof createRedisConnection>
  let workload: Workload
  let flows: WorkflowPlan
  let snapshot: Snapshot | undefined
  let waitError = ''
  const kills: string[] = []
  const timings: Record<string, number> = {}
  const from = new Date(Date.now() - 3_600_000)

  const takeSnapshot = async (): Promise<Snapshot> => {
    const census = await streamCensus(redis, cluster.stream)
    const settled = Object.fromEntries(
      await Promise.all(
        REPLICATED_APPS.map(async (app) => [app, await groupSettled(redis, cluster.stream, app)] as const),
      ),
    ) as Record<ReplicatedApp, boolean>
    const [outbox, rows, audit, analytics] = await Promise.all([
      outboxEmails(cluster),
      deliveries(cluster),
      auditCounts(cluster),
      analyticsCounts(cluster, from, new Date(Date.now() + 3_600_000)),
    ])
    const workflows = workflowShare(flows, { deliveries: rows, outbox, sent: census.sent })
    const emails = outbox.filter((m) => !m.recipient.endsWith(`@${WORKFLOW_DOMAIN}`)).map((m) => m.recipient)
    const welcomeSent = census.sent.length - workflows.sent.length
    return { census, settled, emails, welcomeSent, outbox, deliveries: rows, workflows, audit, analytics }
  }

  /**
   * A consistent moment: every group had read and settled everything, nothing was published while the counts
   * were read (the census before and after agree), and the counts agree with the census. A duplicate or a loss
   * never reaches that moment, and the tests below then report the difference.
   */
  const consistent = (before: Snapshot, after: Snapshot['census']) =>
    Object.values(before.settled).every(Boolean) &&
    before.census.valid === after.valid &&
    Object.keys(diff(before.census.distinctByType, before.audit)).length === 0 &&
    Object.keys(diff(before.census.distinctByType, before.analytics)).length === 0 &&
    before.emails.length === REGISTRATIONS &&
    before.welcomeSent === REGISTRATIONS &&
    workflowsSettled(flows, before.workflows)

  beforeAll(async () => {
    const t0 = performance.now()
    console.log(`replicas: seed ${seed} (REPLICAS_SEED=${seed} replays this run's choices)`)
    cluster = await startCluster({ replicas: 3, env: JOB_ENV })
    timings.boot = performance.now() - t0
    redis = createRedisConnection(TEST_REDIS_URL, 'command')
    workload = buildWorkload({
      events: EVENTS,
      registrations: REGISTRATIONS,
      duplicates: DUPLICATES,
      poison: POISON,
      random,
      run: cluster.id,
    })
    flows = buildWorkflows({ run: cluster.id, random })

    // SIGKILL a random replica of each app, twice per app in a random order, at random moments while the
    // events go out and the backlog drains; each comes back as a new process (a new consumer name).
    let publishing = true
    const chaos = (async () => {
      const plan = REPLICATED_APPS.flatMap((app) => Array.from({ length: KILLS_PER_APP }, () => app)).sort(
        () => random() - 0.5,
      )
      for (const app of plan) {
        // Pacing, not a timing assumption: kills land while the replicas have work in hand.
        await Bun.sleep(publishing ? 300 + random() * 1500 : 1000 + random() * 2000)
        const live = cluster.replicas(app)
        const victim = live[Math.floor(random() * live.length)]!
        await cluster.kill(victim)
        kills.push(`${app}-${victim.index} at ${((performance.now() - t0) / 1000).toFixed(1)} s`)
        await cluster.restart(app, victim.index)
      }
    })()

    const stream = connectStream({ redisUrl: TEST_REDIS_URL, stream: cluster.stream })
    const publisher = createEventPublisher({
      publisher: stream.publisher,
      source: 'monolith',
      deadlineMs: 30_000,
    })
    const t1 = performance.now()
    // The workflows go out over the first seconds, beside the main workload, on their own connection.
    const flowStream = connectStream({ redisUrl: TEST_REDIS_URL, stream: cluster.stream })
    const flowPublisher = createEventPublisher({
      publisher: flowStream.publisher,
      source: 'monolith',
      deadlineMs: 30_000,
    })
    const drive = driveWorkflows(flows, cluster, (event) => flowPublisher.publish(event))
    const driving = drive.done.finally(() => flowStream.close())
    await drive.head
    timings.head = performance.now() - t1
    try {
      const chunk = 500
      const poisonEvery = Math.floor(workload.publishes.length / workload.poison.length)
      for (let i = 0; i < workload.publishes.length; i += chunk) {
        await Promise.all(workload.publishes.slice(i, i + chunk).map((event) => publisher.publish(event)))
        // Poison goes in raw, as a producer in another language could write it, between the good entries.
        for (let p = Math.floor(i / poisonEvery); p < Math.floor((i + chunk) / poisonEvery); p++) {
          const entry = workload.poison[p]
          if (entry) await redis.xadd(cluster.stream, '*', ...entry.fields)
        }
      }
      for (const entry of workload.poison.slice(Math.floor(workload.publishes.length / poisonEvery)))
        await redis.xadd(cluster.stream, '*', ...entry.fields)
    } finally {
      publishing = false
      await stream.close()
    }
    timings.publish = performance.now() - t1
    await chaos
    timings.chaos = performance.now() - t1
    await driving
    timings.workflows = performance.now() - t1

    const deadline = Date.now() + SETTLE_TIMEOUT_MS
    // Consistent, and still so with nothing more on the stream a checkpoint period later: audit's checkpoint job
    // anchors the chain heads that moved (an audit.checkpoint event each) up to one period after the last record.
    let consistentSince: { at: number; valid: number } | undefined
    for (;;) {
      try {
        const before = await takeSnapshot()
        const after = await streamCensus(redis, cluster.stream)
        snapshot = before
        if (consistent(before, after)) {
          if (consistentSince?.valid !== after.valid) consistentSince = { at: Date.now(), valid: after.valid }
          else if (Date.now() - consistentSince.at >= QUIET_AFTER_MS) break
          waitError = 'consistent, but not for a checkpoint period yet'
        } else {
          consistentSince = undefined
          waitError = `not settled: groups ${JSON.stringify(before.settled)}, emails ${before.emails.length}, workflows ${workflowsSettled(flows, before.workflows)}, audit ${JSON.stringify(diff(before.census.distinctByType, before.audit))}, analytics ${JSON.stringify(diff(before.census.distinctByType, before.analytics))}`
        }
      } catch (error) {
        waitError = `reading the state failed: ${(error as Error).message}`
      }
      if (Date.now() > deadline) {
        console.error(`replicas: gave up after ${SETTLE_TIMEOUT_MS} ms: ${waitError}`)
        break
      }
      await Bun.sleep(1000)
    }
    timings.settled = performance.now() - t1
    console.log(
      `replicas: boot ${(timings.boot / 1000).toFixed(1)} s, timed workflows published ${(timings.head / 1000).toFixed(1)} s, publish ${(timings.publish / 1000).toFixed(1)} s, workflows driven ${(timings.workflows / 1000).toFixed(1)} s, kills done ${(timings.chaos / 1000).toFixed(1)} s, settled ${(timings.settled / 1000).toFixed(1)} s after the first publish; kills: ${kills.join(', ')}; ${cluster.started} processes started; workflows: ${snapshot ? waitedSummary(flows, snapshot.workflows) : 'not read'}`,
    )
  }, SETTLE_TIMEOUT_MS + 300_000)

  afterAll(async () => {
    if (redis) await closeConnection(redis).catch(() => {})
    await cluster?.stop()
  }, 120_000)

  it('published every distinct event and duplicate, and killed every app twice', () => {
    const census = snapshot!.census
    for (const [type, count] of workload.distinctByType) expect(census.distinctByType.get(type)).toBe(count)
    // Each duplicate is a second valid entry with an id already on the stream.
    const ours = [...workload.distinctByType.values()].reduce((a, b) => a + b, 0)
    expect(ours).toBe(EVENTS)
    expect(workload.publishes.length).toBe(EVENTS + DUPLICATES)
    expect(census.invalid).toHaveLength(POISON)
    expect(kills).toHaveLength(KILLS_PER_APP * REPLICATED_APPS.length)
    for (const app of REPLICATED_APPS) expect(cluster.replicas(app)).toHaveLength(3)
  })

  it('sends each welcome email exactly once (outbox) and publishes one notification.sent per email', () => {
    const { emails, census, settled } = snapshot!
    expect(settled.notifications).toBe(true)
    const counts = new Map<string, number>()
    for (const email of emails) counts.set(email, (counts.get(email) ?? 0) + 1)
    const duplicated = [...counts].filter(([, n]) => n > 1)
    const lost = [...workload.recipients].filter((r) => !counts.has(r))
    expect({ lost: lost.length, duplicated: duplicated.length }).toEqual({ lost: 0, duplicated: 0 })
    expect(emails).toHaveLength(REGISTRATIONS)
    expect(snapshot!.welcomeSent).toBe(REGISTRATIONS)
    expect(census.distinctByType.get('notification.sent')).toBe(census.sent.length)
  })

  it('sends each user one digest listing every sign-in of its window, once, while replicas die', () => {
    expect(snapshot!.settled.notifications).toBe(true)
    expect(digestFindings(flows, snapshot!.workflows)).toEqual([])
  })

  it('sends exactly the throttle limit per recipient and category, the rest throttled, none lost', () => {
    expect(throttleFindings(flows, snapshot!.workflows)).toEqual([])
  })

  it('sends delayed, scheduled and quiet-hours requests once each and never before their time; never a cancelled one', () => {
    expect(timedFindings(flows, snapshot!.workflows)).toEqual([])
    expect(snapshot!.workflows.outbox).toHaveLength(flows.emails)
  })

  it('fails every email over from the dead first provider to the second, which sends it once (one notification.sent)', () => {
    const { workflows, deliveries: rows, census } = snapshot!
    expect(sentFindings(workflows)).toEqual([])
    // The welcome emails too: every sent delivery and every notification.sent names the second provider.
    const sent = rows.filter((d) => d.status === 'sent')
    expect(sent).toHaveLength(REGISTRATIONS + workflows.sent.length)
    expect(sent.filter((d) => d.provider !== 'outbox' || !d.failedOver)).toEqual([])
    expect(census.sent.filter((e) => e.provider !== 'outbox')).toEqual([])
  })

  it(
    'logs one sent attempt per workflow email, through the outbox after the dead provider failed over',
    async () => {
      expect(await attemptFindings(cluster, snapshot!.workflows)).toEqual([])
    },
    READ_TIMEOUT_MS,
  )

  it(
    'records each event once in audit, in gapless chains that verify',
    async () => {
      expect(snapshot!.settled.audit).toBe(true)
      // A late audit.checkpoint (its job held up by a killed replica's lock) may land while this reads: read the
      // stream, the counts and every chain again until nothing changed from the census before to the one after.
      const read = async () => {
        const census = await streamCensus(redis, cluster.stream)
        const [audit, chains] = await Promise.all([auditCounts(cluster), auditChains(cluster)])
        // Every chain recomputes from the first record to the head, with seq 1..n: n records, no gap, no fork.
        const verified: Verification[] = []
        for (const tenant of chains.keys())
          verified.push(await verifyChain(cluster, tenant === '(none)' ? undefined : tenant))
        const after = await streamCensus(redis, cluster.stream)
        const [againAudit, againChains] = await Promise.all([auditCounts(cluster), auditChains(cluster)])
        const stable =
          after.valid === census.valid &&
          JSON.stringify([...againAudit]) === JSON.stringify([...audit]) &&
          JSON.stringify([...againChains]) === JSON.stringify([...chains])
        return { census, audit, chains, verified, stable }
      }
      let reading = await read()
      for (let tries = 1; !reading.stable && tries < 10; tries++) reading = await read()
      const { census, audit, chains, verified } = reading
      expect(diff(census.distinctByType, audit)).toEqual({})
      const total = [...census.distinctByType.values()].reduce((a, b) => a + b, 0)
      expect(verified.map((v) => ({ chain: v.chain, ok: v.ok, brokenAt: v.brokenAt }))).toEqual(
        verified.map((v) => ({ chain: v.chain, ok: true, brokenAt: undefined })),
      )
      for (const v of verified) {
        const records = chains.get(v.chain === 'global' ? '(none)' : v.chain)
        expect(v.head.seq).toBe(records!)
        expect(v.checked).toBe(records!)
      }
      expect(verified.reduce((n, v) => n + v.head.seq, 0)).toBe(total)
    },
    READ_TIMEOUT_MS,
  )

  it('counts each event once in analytics', () => {
    const { census, analytics, settled } = snapshot!
    expect(settled.analytics).toBe(true)
    expect(diff(census.distinctByType, analytics)).toEqual({})
    for (const [type, count] of workload.distinctByType) expect(analytics.get(type)).toBe(count)
  })

  it(
    'dead-letters every poison entry in every group, once, with a reason',
    async () => {
      const poisonIds = new Set(snapshot!.census.invalid)
      expect(poisonIds.size).toBe(POISON)
      for (const app of REPLICATED_APPS) {
        const letters: DeadLetterView[] = await deadLetters(cluster, app)
        expect({ app, ids: letters.map((l) => l.originalId).sort() }).toEqual({
          app,
          ids: [...poisonIds].sort(),
        })
        for (const letter of letters) {
          expect(letter.error.code).toBe('CONTRACT_VIOLATION')
          expect(letter.error.message.length).toBeGreaterThan(0)
        }
      }
    },
    READ_TIMEOUT_MS,
  )

  it('runs each scheduled job at most once per slot across every replica, killed ones included', () => {
    const runs = readFileSync(cluster.jobLedger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JobRun)
    const perSlot = new Map<string, JobRun[]>()
    for (const run of runs) {
      const key = `${run.app}/${run.job}/${run.slot}`
      perSlot.set(key, [...(perSlot.get(key) ?? []), run])
    }
    const twice = [...perSlot].filter(([, list]) => list.length > 1)
    expect(twice).toEqual([])
    // Every job ran, on more than one instance over the run: the slots really were contested.
    const jobs = new Map<string, Set<string>>()
    for (const run of runs) {
      const key = `${run.app}/${run.job}`
      jobs.set(key, (jobs.get(key) ?? new Set()).add(run.instance))
    }
    expect([...jobs.keys()].sort()).toEqual([
      'analytics/retention',
      'analytics/rollup',
      'analytics/uniques-persist',
      'audit/checkpoint',
      'audit/retention',
      'notifications/due-deliveries',
    ])
    expect([...jobs.values()].filter((instances) => instances.size > 1).length).toBeGreaterThan(0)
  })
})
