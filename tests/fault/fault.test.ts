/**
 * The fault suite: real processes killed for real, private redis-servers killed and restarted. Each scenario
 * records one row; a full run prints the table and writes docs/reliability.md (Redis version, date, run time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { printRecorded, startLedgerServer } from './lib/ledger-server.ts'
import { record, recorded, writeReliabilityReport } from './lib/report.ts'
import type { SuiteEnv } from './scenarios/common.ts'
import {
  distinctNames,
  gracefulSignal,
  sigkillRestart,
  sigkillStorm,
  zombieAck,
} from './scenarios/crashes.ts'
import { poisonMessages } from './scenarios/poison.ts'
import {
  clientKills,
  redisKillWithAof,
  redisKillWithoutPersistence,
  redisUnreachable,
} from './scenarios/redis-faults.ts'
import { externalMaxlen, safeTrimUnderBacklog } from './scenarios/trimming.ts'

const SCENARIOS = 13
const suiteStarted = performance.now()
let ledgerServer: Awaited<ReturnType<typeof startLedgerServer>>
let env: SuiteEnv

beforeAll(async () => {
  ledgerServer = await startLedgerServer()
  env = ledgerServer.env
})

afterAll(async () => {
  printRecorded()
  if (recorded().length === SCENARIOS) {
    const info = await ledgerServer.server.command('INFO', 'server')
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
    const path = writeReliabilityReport({
      redisVersion: version,
      seconds: (performance.now() - suiteStarted) / 1000,
    })
    console.log(`wrote ${path}`)
  }
  await ledgerServer?.stop()
})

/** What every delivery scenario must show: nothing lost, no effect twice, nothing pending, no dead letter. */
const expectIntact = (r: {
  readonly lost: readonly unknown[]
  readonly row: { readonly duplicateEffects: number; readonly pending: number; readonly deadLetters: number }
}) => {
  expect(r.lost).toEqual([])
  expect(r.row.duplicateEffects).toBe(0)
  expect(r.row.pending).toBe(0)
  expect(r.row.deadLetters).toBe(0)
}

describe('delivery under crashes', () => {
  it('loses nothing and applies no effect twice while a random consumer of 3 is SIGKILLed 20+ times over 20,000 events', async () => {
    const r = await sigkillStorm(env)
    record(r.row)
    expectIntact(r)
    expect(r.kills).toBeGreaterThanOrEqual(20)
  }, 180_000)

  it('takes over a SIGKILLed consumer’s pending entries from its restarted successor without waiting for claimIdleMs', async () => {
    const r = await sigkillRestart(env)
    record(r.row)
    expectIntact(r)
    expect(r.stranded).toBeGreaterThan(0)
    expect(r.reclaimed).toBeGreaterThanOrEqual(r.stranded)
    // The point of the heartbeat: well before the claim idle time (5 s heartbeat TTL against 30 s).
    expect(r.row.recoveryMs).toBeLessThan(r.claimIdleMs)
  }, 150_000)

  it('refuses the acks of a consumer resumed after SIGSTOP past claimIdleMs, and loses nothing', async () => {
    const r = await zombieAck(env)
    record(r.row)
    expectIntact(r)
    expect(r.heldByA).toBeGreaterThan(0)
    expect(r.claimed).toBe(true)
    expect(r.refused).toBeGreaterThan(0)
  }, 90_000)

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits within its grace period on ${signal} mid-batch and leaves no pending entries of its own`, async () => {
      const r = await gracefulSignal(env, signal)
      record(r.row)
      expect(r.row.deadLetters).toBe(0)
      expect(r.exitCode).toBe(0)
      expect(r.exitMs).toBeLessThan(r.graceMs)
      expect(r.ownPendingAfter).toBe(0)
      expect(r.stillInGroup).toBe(false)
      expect(r.lost).toEqual([])
      expect(r.row.duplicateEffects).toBe(0)
    }, 60_000)
  }

  it('gives two processes started with the same configuration distinct consumer names', async () => {
    const r = await distinctNames(env)
    record(r.row)
    expect(r.row.deadLetters).toBe(0)
    expect(new Set(r.names).size).toBe(2)
    expect(r.inGroup).toEqual(expect.arrayContaining(r.names))
    expect(r.lost).toEqual([])
  }, 60_000)

  it('loses nothing from a 5,000-entry backlog while trimStream runs', async () => {
    const r = await safeTrimUnderBacklog(env)
    record(r.row)
    expect(r.row.deadLetters).toBe(0)
    expect(r.trimmed).toBeGreaterThan(0)
    expect(r.lost).toEqual([])
    expect(r.row.pending).toBe(0)
  }, 90_000)

  it("acks, counts and reports entries deleted by someone else's XTRIM MAXLEN, without a crash loop", async () => {
    const r = await externalMaxlen(env)
    record(r.row)
    expect(r.row.deadLetters).toBe(0)
    expect(r.removed).toBe(1000)
    // Each of the 600 deleted pending entries is acked and counted; two consumers racing for the same one
    // may both count it (the counter can overstate, never miss).
    expect(r.deleted).toBeGreaterThanOrEqual(600)
    expect(r.applied).toBe(r.survivors)
    expect(r.lost).toEqual([])
    expect(r.alive).toBe(2)
    expect(r.row.pending).toBe(0)
  }, 90_000)
})

describe('Redis faults', () => {
  it('processes every acknowledged event when redis-server (AOF everysec) is SIGKILLed and restarted', async () => {
    const r = await redisKillWithAof(env)
    record(r.row)
    expectIntact(r)
    expect(r.unpublished).toBe(0)
    // Whatever Redis itself dropped was acknowledged within the everysec window (≤ 2 s) before the kill.
    expect(r.window.every((ms) => ms >= 0 && ms <= 2500)).toBe(true)
  }, 120_000)

  it('recreates the group and resumes when redis-server without persistence is SIGKILLed and restarted', async () => {
    const r = await redisKillWithoutPersistence(env)
    record(r.row)
    expectIntact(r)
    expect(r.recreations).toBeGreaterThan(0)
    expect(r.unpublished).toBe(0)
  }, 120_000)

  it('resumes every consumer by itself after Redis was unreachable for 30 s', async () => {
    const r = await redisUnreachable(env)
    record(r.row)
    expectIntact(r)
    expect(r.everyoneResumed).toBe(true)
    expect(r.unpublished).toBe(0)
  }, 150_000)

  it('applies no effect twice while client connections are killed every second for 30 s', async () => {
    const r = await clientKills(env)
    record(r.row)
    expectIntact(r)
    expect(r.rounds).toBeGreaterThanOrEqual(25)
    expect(r.unpublished).toBe(0)
  }, 150_000)
})

describe('poison messages', () => {
  it('dead-letters exactly the 50 poison entries among 5,000 good ones and keeps the service running', async () => {
    const r = await poisonMessages(env)
    record(r.row)
    expect(r.goodInDlq).toEqual([])
    expect(r.poisonInDlq).toBe(r.total)
    expect(r.row.deadLetters).toBe(r.total)
    expect(r.wrongDeliveries).toEqual([])
    expect(r.polluted).toBeNull()
    expect(r.lost).toEqual([])
    expect(r.alive).toBe(3)
    expect(r.row.duplicateEffects).toBe(0)
    expect(r.row.pending).toBe(0)
  }, 180_000)
})
