/** Delivery under crashes: SIGKILL storms, a zombie consumer, graceful signals, unique names. */
import { goodEvent, type ScenarioWorld, until } from '../lib/harness.ts'
import { idsOf, inWorld, outcome, type SuiteEnv, settle } from './common.ts'

/**
 * Publishes `total` good events and starts one consumer that spends `slowMs` on each; resolves once it has
 * applied more than `applied` of them with a batch still pending on it (mid-batch).
 */
const midBatch = async (
  world: ScenarioWorld,
  total: number,
  slowMs: number,
  applied: number,
  timeoutMs: number,
) => {
  const events = Array.from({ length: total }, goodEvent)
  await world.tracker.publish(events)
  const child = await world.supervisor.spawn({ slowMs })
  const name = await child.name
  await until(
    async () => (await world.ledger.appliedCount()) > applied && (await world.pending(name)) > 0,
    timeoutMs,
    10,
  )
  return { events, child, name }
}

/** 20,000 events while a random consumer out of 3 is SIGKILLed (and replaced) every 700 ms, at least 20 times. */
export const sigkillStorm = async (env: SuiteEnv, total = 20_000, minKills = 20) => {
  return inWorld(env, {}, async (world) => {
    const { supervisor, tracker } = world
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    const events = Array.from({ length: total }, goodEvent)
    let kills = 0
    let lastKill = Date.now()
    let publishing = true
    const killer = (async () => {
      // Bounded: stops after enough kills once publishing is over, or after 200 kills.
      while ((publishing || kills < minKills) && kills < 200) {
        await Bun.sleep(700)
        const live = supervisor.live()
        const victim = live[Math.floor(Math.random() * live.length)]
        if (!victim) continue
        await supervisor.signal(victim, 'SIGKILL')
        kills++
        lastKill = Date.now()
        await supervisor.spawn()
      }
    })()
    const chunk = 250
    for (let i = 0; i < total; i += chunk) {
      await tracker.publish(events.slice(i, i + chunk))
      await Bun.sleep(150)
    }
    await tracker.retryFailed()
    publishing = false
    await killer
    const tally = await settle(world, total, 90_000)
    const { lost, row } = outcome(world, tally, idsOf(events), {
      scenario: `SIGKILL a random consumer of 3 every 0.7 s (${total} events)`,
      recoveryMs: tally.settledAt - lastKill,
      notes: `${kills} SIGKILLs, each consumer replaced by a new process (new name); stranded entries claimed after claimIdleMs.`,
    })
    return { row, kills, lost }
  })
}

/**
 * The zombie ack (docs/pitfalls.md): consumer A is SIGSTOPped mid-batch; B claims A's entries after the claim idle
 * time and holds them; A is resumed, finishes its handlers and tries to ack entries it no longer owns.
 */
export const zombieAck = async (env: SuiteEnv, total = 300) => {
  return inWorld(
    env,
    {
      // Handlers here outlive claimIdleMs on purpose (handlerTimeoutMs, which defaults to claimIdleMs, is lifted to
      // force the zombie), so entries may bounce between A and B a few times: room for that before dead letters.
      // claimIdleMs 3 s (not the suite's 500 ms): once resumed, A's own reclaimer may take back B's entries only
      // after they idle 3 s, so A's overdue acks meet B's ownership even on a loaded machine. At 500 ms, an A
      // slow to get the CPU back reclaimed them first, and its acks went through (0 refused, nothing lost).
      fixture: {
        handlerTimeoutMs: 60_000,
        batchSize: 50,
        concurrency: 50,
        maxDeliveries: 20,
        claimIdleMs: 3000,
      },
    },
    async (world) => {
      const { supervisor, tracker, ledger } = world
      const events = Array.from({ length: total }, goodEvent)
      await tracker.publish(events)
      const a = await supervisor.spawn({ slowMs: 1500 })
      const aName = await a.name
      await until(async () => (await world.pending(aName)) > 0, 10_000, 5)
      await supervisor.signal(a, 'SIGSTOP')
      const stoppedAt = Date.now()
      const heldByA = await world.pending(aName)
      // B is slow (its handlers outlast the claim idle time), so it still owns A's entries when A wakes up.
      const b = await supervisor.spawn({ slowMs: 5000 })
      const bName = await b.name
      // Resume A as soon as B has claimed some of A's entries (the oldest first: the batch A is handling).
      const claimed = await until(async () => (await world.pending(aName)) < heldByA, 30_000, 10)
      const pausedMs = Date.now() - stoppedAt
      await supervisor.signal(a, 'SIGCONT')
      const resumedAt = Date.now()
      const refusedSeen = await until(
        async () => ((await ledger.statuses()).find((s) => s.name === aName)?.zombieAcksRefused ?? 0) > 0,
        10_000,
      )
      const tally = await settle(world, total, 60_000)
      const statuses = await ledger.statuses()
      const refused = statuses.find((s) => s.name === aName)?.zombieAcksRefused ?? 0
      const { lost, row } = outcome(world, tally, idsOf(events), {
        scenario: 'SIGSTOP a consumer past claimIdleMs, then SIGCONT (zombie ack)',
        recoveryMs: tally.settledAt - resumedAt,
        notes: `A held ${heldByA} entries (a batch in its handlers, and any batch read ahead) when stopped for ${(pausedMs / 1000).toFixed(1)} s (claimIdleMs 3 s here, B's handlers 5 s); B (${bName === aName ? 'same name!' : 'another name'}) claimed them; A woke up, finished its handlers and tried to ack them: ${refused} acks refused by the owner check (they stayed with B, which processed them).`,
      })
      return { row, heldByA, claimed, refusedSeen, refused, lost }
    },
  )
}

/** SIGINT or SIGTERM while a batch is in flight: the process closes within its grace period, owning nothing. */
export const gracefulSignal = async (env: SuiteEnv, signal: 'SIGINT' | 'SIGTERM', total = 600) => {
  const graceMs = 5000
  return inWorld(
    env,
    {
      fixture: { batchSize: 50, concurrency: 10, closeTimeoutMs: 3000 },
    },
    async (world) => {
      const { supervisor, ledger } = world
      const { events, child: x, name: xName } = await midBatch(world, total, 100, 60, 20_000)
      const pendingAtSignal = await world.pending(xName)
      const sentAt = Date.now()
      await supervisor.signal(x, signal)
      const exitCode = await Promise.race([x.exited, Bun.sleep(graceMs + 2000).then(() => -1)])
      const exitMs = Date.now() - sentAt
      const ownPendingAfter = await world.pending(xName)
      const consumers = (await world.redis.xinfo('CONSUMERS', world.stream, 'fault')) as unknown[][]
      const stillInGroup = consumers.some((c) => c[1] === xName)
      const appliedByX = await ledger.appliedCount()
      await supervisor.spawn()
      const tally = await settle(world, total, 30_000)
      const { lost, row } = outcome(world, tally, idsOf(events), {
        scenario: `${signal} mid-batch`,
        recoveryMs: exitMs,
        notes: `${signal} with ${pendingAtSignal} entries pending on the consumer: exit code ${exitCode} after ${exitMs} ms (grace ${graceMs} ms), ${ownPendingAfter} of its own entries left pending, ${stillInGroup ? 'still' : 'no longer'} in the group; it had applied ${appliedByX} events, a new process did the rest (recovery = time to exit).`,
      })
      return { row, exitCode, exitMs, graceMs, ownPendingAfter, stillInGroup, lost }
    },
  )
}

/** Two processes started with the same configuration (no consumer name given) get distinct names. */
export const distinctNames = async (env: SuiteEnv, total = 2000) => {
  return inWorld(env, {}, async (world) => {
    const { supervisor, tracker } = world
    const [one, two] = await Promise.all([supervisor.spawn(), supervisor.spawn()])
    const names = [await one.name, await two.name]
    const events = Array.from({ length: total }, goodEvent)
    const startedAt = Date.now()
    for (let i = 0; i < total; i += 100) {
      await tracker.publish(events.slice(i, i + 100))
      await Bun.sleep(20)
    }
    const tally = await settle(world, total, 30_000)
    const consumers = (await world.redis.xinfo('CONSUMERS', world.stream, 'fault')) as unknown[][]
    const inGroup = consumers.map((c) => String(c[1]))
    const statuses = await world.ledger.statuses()
    const { lost, row } = outcome(world, tally, idsOf(events), {
      scenario: 'two processes, same configuration',
      recoveryMs: tally.settledAt - startedAt,
      notes: `consumer names ${names.map((n) => `\`${n}\``).join(' and ')}; processed ${statuses.map((s) => s.processed).join(' / ')} (recovery = time to drain).`,
    })
    return { row, names, inGroup, lost }
  })
}

/**
 * SIGKILL, restart, nothing pending: a consumer with the production claim idle time (30 s) is SIGKILLed mid-batch
 * and a new process (a new consumer name) starts in its place. The new process finds the dead one without a
 * heartbeat and takes its entries at once; recovery = from the restart to every event applied and nothing pending.
 */
export const sigkillRestart = async (env: SuiteEnv, total = 3000) => {
  const claimIdleMs = 30_000
  return inWorld(env, { fixture: { claimIdleMs } }, async (world) => {
    const { supervisor, ledger } = world
    const { events, child: first, name: firstName } = await midBatch(world, total, 20, 500, 30_000)
    await supervisor.signal(first, 'SIGKILL')
    const stranded = await world.pending(firstName)
    const restartedAt = Date.now()
    const second = await supervisor.spawn()
    const secondName = await second.name
    const tally = await settle(world, total, 90_000)
    const recoveryMs = tally.settledAt - restartedAt
    // The child writes its status every 100 ms: wait (bounded) for the one written after its last takeover.
    const reclaimedBy = async () =>
      (await ledger.statuses()).find((s) => s.name === secondName)?.reclaimed ?? 0
    await until(async () => (await reclaimedBy()) >= stranded, 5000)
    const reclaimed = await reclaimedBy()
    const { lost, row } = outcome(world, tally, idsOf(events), {
      scenario: 'SIGKILL, restart, nothing pending',
      recoveryMs,
      notes: `claimIdleMs ${claimIdleMs / 1000} s (the production default), heartbeat TTL 5 s: the consumer was SIGKILLed with ${stranded} entries pending; the restarted process (a new name) found it without a heartbeat and took them over (${reclaimed} reclaimed) instead of waiting for claimIdleMs (recovery = from the restart to everything applied and nothing pending, ${(recoveryMs / 1000).toFixed(1)} s).`,
    })
    return { row, stranded, reclaimed, claimIdleMs, lost }
  })
}
