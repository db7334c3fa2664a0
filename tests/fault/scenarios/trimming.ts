/** Trimming a backlog: the safe MINID trim loses nothing; someone else's MAXLEN deletions are acked and counted. */
import { trimStream } from '@flotilla/streams'
import { goodEvent, type ScenarioWorld, until } from '../lib/harness.ts'
import { idsOf, inWorld, outcome, type SuiteEnv, settle } from './common.ts'

/** Appends events in pipelines of 500 (the backlog is built before any consumer runs). */
const appendBacklog = async (world: ScenarioWorld, total: number) => {
  const events = Array.from({ length: total }, goodEvent)
  await world.tracker.publish(events)
  return events
}

/** A 5,000-entry backlog drained by 2 consumers while `trimStream` (retention 0) runs every 50 ms. */
export const safeTrimUnderBacklog = async (env: SuiteEnv, total = 5000) => {
  return inWorld(env, { fixture: { slowMs: 2 } }, async (world) => {
    await world.redis.xgroup('CREATE', world.stream, 'fault', '0', 'MKSTREAM')
    const events = await appendBacklog(world, total)
    let trimmed = 0
    let passes = 0
    let trimming = true
    const trimmer = (async () => {
      while (trimming && passes < 10_000) {
        trimmed += (await trimStream({ redis: world.redis, stream: world.stream, retentionMs: 0 })).trimmed
        passes++
        await Bun.sleep(50)
      }
    })()
    const startedAt = Date.now()
    await Promise.all([world.supervisor.spawn(), world.supervisor.spawn()])
    const tally = await settle(world, total, 60_000)
    trimming = false
    await trimmer
    const statuses = await world.ledger.statuses()
    const deleted = statuses.reduce((n, s) => n + s.deletedEntries, 0)
    const { lost, row } = outcome(world, tally, idsOf(events), {
      scenario: `${total}-entry backlog while trimStream runs`,
      recoveryMs: tally.settledAt - startedAt,
      notes: `${passes} trimStream passes (retention 0) removed ${trimmed} entries while 2 consumers drained the backlog; consumers met ${deleted} deleted entries (recovery = time to drain).`,
    })
    return { row, trimmed, deleted, lost }
  })
}

/**
 * Someone else's `XTRIM MAXLEN` deletes entries still pending: 300 on a consumer that comes back under the
 * same name (its history read meets `[id, nil]`), 300 on one that never comes back (the reclaimer meets
 * them), and 400 never delivered. They must be acked and counted, the rest processed, no crash loop.
 */
export const externalMaxlen = async (env: SuiteEnv, total = 5000) => {
  return inWorld(env, {}, async (world) => {
    const { redis, stream } = world
    await redis.xgroup('CREATE', stream, 'fault', '0', 'MKSTREAM')
    await appendBacklog(world, total)
    for (const ghost of ['ghost-returns', 'ghost-gone'])
      await redis.call('XREADGROUP', 'GROUP', 'fault', ghost, 'COUNT', 300, 'STREAMS', stream, '>')
    const keep = total - 1000
    const removed = await redis.xtrim(stream, 'MAXLEN', keep)
    const survivors = (await redis.xrange(stream, '-', '+')).map(([, fields]) => {
      const i = fields.indexOf('event')
      return (JSON.parse(fields[i + 1] ?? '{}') as { id: string }).id
    })
    const startedAt = Date.now()
    await world.supervisor.spawn({ consumerName: 'ghost-returns' })
    await world.supervisor.spawn()
    const tally = await settle(world, keep, 60_000)
    await until(
      async () => (await world.ledger.statuses()).reduce((n, s) => n + s.deletedEntries, 0) >= 600,
      10_000,
    )
    const statuses = await world.ledger.statuses()
    const deleted = statuses.reduce((n, s) => n + s.deletedEntries, 0)
    const alive = world.supervisor.live().length
    const restarts = world.supervisor.all().length - 2
    // Every applied id must be one the stream still had after the trim (nothing invented).
    const { lost, row } = outcome(world, tally, survivors, {
      scenario: `external XTRIM MAXLEN under a ${total}-entry backlog`,
      recoveryMs: tally.settledAt - startedAt,
      notes: `XTRIM MAXLEN ${keep} removed ${removed} entries (600 pending on two dead consumers, 400 never delivered: deleted by someone else, not lost by us); consumers acked and reported deletedEntries = ${deleted} (${statuses.map((s) => `${s.name.startsWith('ghost') ? 'returning ghost' : 'new consumer'} ${s.deletedEntries}`).join(', ')}); ${alive} consumers alive, ${restarts} restarts.`,
    })
    return { row, removed, deleted, alive, survivors: survivors.length, applied: tally.applied.size, lost }
  })
}
