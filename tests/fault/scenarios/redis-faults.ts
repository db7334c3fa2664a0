/** Redis faults: SIGKILL with AOF and without persistence, 30 s unreachable, client connections killed every second. */
import type { AnyEvent } from '@flotilla/contracts'
import { createWorld, goodEvent, type ScenarioWorld, until } from '../lib/harness.ts'
import { missing, rowOf, type SuiteEnv, settle } from './common.ts'

/** Publishes `total` events in chunks while `fault` runs once at `faultAt` (a fraction of the way). */
const publishThrough = async (
  world: ScenarioWorld,
  total: number,
  faultAt: number,
  fault: () => Promise<void>,
  chunk = 200,
  pauseMs = 80,
): Promise<AnyEvent[]> => {
  const events = Array.from({ length: total }, goodEvent)
  let faulted = false
  for (let i = 0; i < total; i += chunk) {
    if (!faulted && i >= total * faultAt) {
      faulted = true
      await fault()
    }
    await world.tracker.publish(events.slice(i, i + chunk))
    await Bun.sleep(pauseMs)
  }
  await world.tracker.retryFailed()
  return events
}

/** redis-server (AOF everysec) SIGKILLed mid-stream, restarted 1 s later: every acknowledged event is processed. */
export const redisKillWithAof = async (env: SuiteEnv, total = 10_000) => {
  const world = await createWorld(env.ledger, env.ledgerUrl, { persistence: 'aof' })
  try {
    const { supervisor, broker, tracker } = world
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    let restartedAt = 0
    let killedAt = 0
    let failedDuringOutage = 0
    await publishThrough(world, total, 0.4, async () => {
      // A burst just before the kill: acknowledged, most of it not yet processed (a backlog and a pending list).
      await tracker.publish(Array.from({ length: 1000 }, goodEvent))
      killedAt = Date.now()
      await broker.kill()
      const before = tracker.unknown
      // Keep publishing into the outage: those attempts fail fast (no offline queue) and are retried.
      await tracker.publish(Array.from({ length: 50 }, goodEvent))
      failedDuringOutage = tracker.unknown - before
      await Bun.sleep(1000)
      await broker.start()
      restartedAt = Date.now()
    })
    await tracker.retryFailed()
    // What the restarted Redis holds: an acknowledged write can miss the AOF (everysec postpones a write behind
    // a slow fsync and still answers the client), so those are Redis' loss; anything it holds must be processed.
    const inStream = await streamEventIds(world)
    const acked = [...tracker.acked.keys()]
    const held = acked.filter((id) => inStream.has(id))
    const tally = await settle(world, held.length, 60_000)
    const lost = missing(held, tally.applied)
    const lostByRedis = acked.filter((id) => !inStream.has(id) && !tally.applied.has(id))
    const window = lostByRedis.map((id) => killedAt - (tracker.acked.get(id) ?? killedAt))
    const statuses = await world.ledger.statuses()
    const row = rowOf(world, tally, {
      scenario: 'redis-server (AOF everysec) SIGKILLed mid-stream, restarted',
      lost: lost.length,
      lostByRedis: lostByRedis.length,
      recoveryMs: tally.settledAt - restartedAt,
      notes: `SIGKILL at 40% of ${total} events right after a burst of 1,000, restart after 1 s on the same AOF; ${failedDuringOutage} publishes failed fast during the outage and all ${tracker.unknown} failed attempts were retried with the same event id (${tracker.unpublished} never got through); ${statuses.filter((s) => s.state === 'running').length} consumers resumed on their own (group kept by the AOF; recreations ${statuses.reduce((n, s) => n + s.groupRecreations, 0)}); every event the restarted Redis held was processed${lostByRedis.length === 0 ? ', and it held every acknowledged one' : `; ${lostByRedis.length} acknowledged events were missing from the AOF (acked ${Math.min(...window)}–${Math.max(...window)} ms before the kill: the everysec window, Redis' loss)`}.`,
    })
    return { row, lost, lostByRedis, window, unpublished: tracker.unpublished }
  } finally {
    await world.close()
  }
}

/** Envelope ids of every entry in the stream now. */
const streamEventIds = async (world: ScenarioWorld): Promise<Set<string>> => {
  const ids = new Set<string>()
  for (const [, fields] of await world.redis.xrange(world.stream, '-', '+')) {
    const text = fields[fields.indexOf('event') + 1] ?? '{}'
    ids.add((JSON.parse(text) as { id: string }).id)
  }
  return ids
}

/**
 * The same without persistence: the stream and the group vanish, consumers recreate the group and go on.
 * What Redis acknowledged before the restart and no consumer had processed is lost by Redis; anything
 * acknowledged after the restart must be processed.
 */
export const redisKillWithoutPersistence = async (env: SuiteEnv, total = 10_000) => {
  const world = await createWorld(env.ledger, env.ledgerUrl, { persistence: 'none' })
  try {
    const { supervisor, broker, tracker } = world
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    let restartedAt = 0
    let killedAt = 0
    await publishThrough(world, total, 0.4, async () => {
      await tracker.publish(Array.from({ length: 1000 }, goodEvent))
      killedAt = Date.now()
      await broker.kill()
      await Bun.sleep(1000)
      await broker.start()
      restartedAt = Date.now()
    })
    const ackedAfter = [...world.tracker.acked].filter(([, at]) => at >= restartedAt).map(([id]) => id)
    const ackedBefore = [...world.tracker.acked].filter(([, at]) => at <= killedAt).map(([id]) => id)
    // Wait for everything acknowledged after the restart (the rest may be gone with Redis).
    await until(async () => missing(ackedAfter, await world.ledger.appliedIds()).length === 0, 60_000, 200)
    const tally = await settle(world, 0, 30_000)
    const lost = missing(ackedAfter, tally.applied)
    const lostByRedis = missing(ackedBefore, tally.applied)
    const statuses = await world.ledger.statuses()
    const recreations = statuses.reduce((n, s) => n + s.groupRecreations, 0)
    const row = rowOf(world, tally, {
      scenario: 'redis-server without persistence SIGKILLed mid-stream, restarted',
      lost: lost.length,
      lostByRedis: lostByRedis.length,
      recoveryMs: tally.settledAt - restartedAt,
      notes: `SIGKILL at 40% of ${total} events right after a burst of 1,000, restart after 1 s with an empty dataset: consumers recreated the group ${recreations} time(s) (NOGROUP → MKSTREAM from 0) and resumed; ${lostByRedis.length} events Redis had acknowledged before the kill were not yet processed and vanished with the dataset (Redis lost them); every one of the ${ackedAfter.length} events acknowledged after the restart was processed.`,
    })
    return { row, lost, lostByRedis, recreations, unpublished: tracker.unpublished }
  } finally {
    await world.close()
  }
}

/** The broker SIGSTOPped for `outageMs` (connections hang, nothing answers), then SIGCONT: every consumer resumes. */
export const redisUnreachable = async (env: SuiteEnv, outageMs = 30_000) => {
  const world = await createWorld(env.ledger, env.ledgerUrl, { persistence: 'none' })
  try {
    const { supervisor, broker, tracker, ledger } = world
    const children = await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    const names = await Promise.all(children.map((c) => c.name))
    const before = Array.from({ length: 2000 }, goodEvent)
    for (let i = 0; i < before.length; i += 200) await tracker.publish(before.slice(i, i + 200))
    await settle(world, before.length, 30_000)
    broker.signal('SIGSTOP')
    const stoppedAt = Date.now()
    // Publishes into the outage time out (2 s producer timeout) and are retried after it.
    const during = Array.from({ length: 100 }, goodEvent)
    await tracker.publish(during)
    await Bun.sleep(Math.max(0, outageMs - (Date.now() - stoppedAt)))
    const processedBefore = new Map((await ledger.statuses()).map((s) => [s.name, s.processed]))
    broker.signal('SIGCONT')
    const resumedAt = Date.now()
    await tracker.retryFailed()
    const after = Array.from({ length: 3000 }, goodEvent)
    for (let i = 0; i < after.length; i += 50) {
      await tracker.publish(after.slice(i, i + 50))
      await Bun.sleep(10)
    }
    const firstAfter = after[0]?.id ?? ''
    await until(async () => (await ledger.appliedIds()).has(firstAfter), 30_000, 20)
    const firstProcessedMs = Date.now() - resumedAt
    const everyoneResumed = await until(async () => {
      const now = await ledger.statuses()
      return names.every(
        (n) => (now.find((s) => s.name === n)?.processed ?? 0) > (processedBefore.get(n) ?? 0),
      )
    }, 30_000)
    const ids = [...tracker.acked.keys()]
    const tally = await settle(world, ids.length, 60_000)
    const statuses = await ledger.statuses()
    const lost = missing(ids, tally.applied)
    const row = rowOf(world, tally, {
      scenario: `redis-server unreachable (SIGSTOP) for ${Math.round(outageMs / 1000)} s`,
      lost: lost.length,
      recoveryMs: tally.settledAt - resumedAt,
      notes: `SIGSTOP for ${((resumedAt - stoppedAt) / 1000).toFixed(0)} s; first new event processed ${firstProcessedMs} ms after SIGCONT; ${everyoneResumed ? 'every one of the 3 consumers' : 'NOT every consumer'} processed new events afterwards by itself (watchdog replaced hung blocking reads ${statuses.reduce((n, s) => n + s.readerReconnects, 0)} times); ${tracker.unknown} publish attempts timed out during the outage and were retried.`,
    })
    return { row, lost, everyoneResumed, firstProcessedMs, unpublished: tracker.unpublished }
  } finally {
    await world.close()
  }
}

/** `CLIENT KILL TYPE normal` every second for `durationMs` while publishing and consuming. */
export const clientKills = async (env: SuiteEnv, durationMs = 30_000) => {
  const world = await createWorld(env.ledger, env.ledgerUrl, { persistence: 'none' })
  try {
    const { supervisor, broker, tracker } = world
    await Promise.all([supervisor.spawn(), supervisor.spawn(), supervisor.spawn()])
    let killing = true
    let rounds = 0
    let killedClients = 0
    const startedAt = Date.now()
    const killer = (async () => {
      while (killing && rounds < Math.ceil(durationMs / 1000) + 5) {
        await Bun.sleep(1000)
        const reply = await broker.command('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => ':0')
        killedClients += Number(reply.slice(1)) || 0
        rounds++
      }
    })()
    const events: AnyEvent[] = []
    while (Date.now() - startedAt < durationMs) {
      const chunk = Array.from({ length: 100 }, goodEvent)
      events.push(...chunk)
      await tracker.publish(chunk)
      await Bun.sleep(100)
    }
    killing = false
    await killer
    const lastKillAt = Date.now()
    await tracker.retryFailed()
    const ids = [...tracker.acked.keys()]
    const tally = await settle(world, ids.length, 60_000)
    const entries = await world.redis.xrange(world.stream, '-', '+')
    const seen = new Map<string, number>()
    for (const [, fields] of entries) {
      const text = fields[fields.indexOf('event') + 1] ?? '{}'
      const id = (JSON.parse(text) as { id: string }).id
      seen.set(id, (seen.get(id) ?? 0) + 1)
    }
    const duplicateEntries = [...seen.values()].reduce((n, c) => n + c - 1, 0)
    const lost = missing(ids, tally.applied)
    const row = rowOf(world, tally, {
      scenario: `client connections killed every second for ${Math.round(durationMs / 1000)} s`,
      lost: lost.length,
      recoveryMs: tally.settledAt - lastKillAt,
      notes: `${rounds} rounds of CLIENT KILL TYPE normal closed ${killedClients} connections; ${tracker.unknown} publishes failed and were retried with the same event id; ${duplicateEntries} duplicate stream entries (same envelope id twice), 0 allowed as duplicate effects.`,
    })
    return { row, lost, duplicateEntries, rounds, unpublished: tracker.unpublished, events: events.length }
  } finally {
    await world.close()
  }
}
