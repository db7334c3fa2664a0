/** What every scenario shares: the suite environment and the closing tally of a run. */

import { createWorld, type ScenarioWorld, until } from '../lib/harness.ts'
import type { RedisClient } from '../lib/ledger.ts'
import type { ResultRow } from '../lib/report.ts'

export interface SuiteEnv {
  /** The ledger Redis (a private server that is never killed). */
  readonly ledger: RedisClient
  readonly ledgerUrl: string
}

export interface Tally {
  readonly applied: Set<string>
  readonly duplicateCalls: number
  readonly duplicateEffects: number
  readonly pending: number
  readonly deadLetters: number
}

/**
 * Runs a scenario in a world of its own (a private Redis, a stream, consumer processes), closed afterwards
 * whatever happens: every child and server killed, every ledger key deleted.
 */
export const inWorld = async <T>(
  env: SuiteEnv,
  options: Parameters<typeof createWorld>[2],
  run: (world: ScenarioWorld) => Promise<T>,
): Promise<T> => {
  const world = await createWorld(env.ledger, env.ledgerUrl, options)
  try {
    return await run(world)
  } finally {
    await world.close()
  }
}

/** Waits (bounded) until `expected` events are applied and nothing is pending, then reads the ledger and the group. */
export const settle = async (
  world: ScenarioWorld,
  expected: number,
  timeoutMs: number,
): Promise<Tally & { settledAt: number }> => {
  await until(
    async () => (await world.ledger.appliedCount()) >= expected && (await world.pending()) === 0,
    timeoutMs,
    100,
  )
  const settledAt = Date.now()
  const totals = await world.ledger.totals()
  return {
    applied: await world.ledger.appliedIds(),
    duplicateCalls: totals.duplicateCalls,
    duplicateEffects: totals.duplicateEffects,
    pending: await world.pending(),
    deadLetters: await world.deadLetters(),
    settledAt,
  }
}

/** The envelope ids of `events`. */
export const idsOf = (events: readonly { readonly id: string }[]): string[] => events.map((e) => e.id)

/** Ids in `ids` that were never applied. */
export const missing = (ids: Iterable<string>, applied: Set<string>): string[] =>
  [...ids].filter((id) => !applied.has(id))

/** A result row from a tally (the scenario fills in the rest). */
const rowOf = (
  world: ScenarioWorld,
  tally: Tally,
  rest: Pick<ResultRow, 'scenario' | 'lost' | 'recoveryMs' | 'notes'> & Partial<ResultRow>,
): ResultRow => ({
  published: world.tracker.published,
  acknowledged: world.tracker.acked.size,
  unknown: world.tracker.unknown,
  lostByRedis: 0,
  duplicateCalls: tally.duplicateCalls,
  duplicateEffects: tally.duplicateEffects,
  pending: tally.pending,
  deadLetters: tally.deadLetters,
  ...rest,
})

/** The close of a scenario: the ids in `ids` never applied, and its result row counting them as lost. */
export const outcome = (
  world: ScenarioWorld,
  tally: Tally,
  ids: Iterable<string>,
  rest: Pick<ResultRow, 'scenario' | 'recoveryMs' | 'notes'> & Partial<ResultRow>,
) => {
  const lost = missing(ids, tally.applied)
  return { lost, row: rowOf(world, tally, { lost: lost.length, ...rest }) }
}
