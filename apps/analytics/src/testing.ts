/** Test fixtures: a temp libSQL file, a unique Redis key prefix and stream, real Redis; everything removed on close. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AnyEvent, createCustomEvent } from '@flotilla/contracts'
import { Redis } from 'ioredis'
import { type Database, openDatabase } from './db/client.ts'
import { createIngest, type Ingest } from './ingest/service.ts'
import { createRollups, type Rollups } from './rollups/service.ts'
import { createUniques, type Uniques } from './uniques/service.ts'

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379'

export interface TestStores {
  readonly dir: string
  readonly dbUrl: string
  readonly database: Database
  readonly redis: Redis
  readonly prefix: string
  readonly ingest: Ingest
  readonly uniques: Uniques
  readonly rollups: Rollups
  /** Deletes every Redis key under the prefix and the temp directory. */
  close(): Promise<void>
}

/** Deletes every key starting with `prefix:` (SCAN, never FLUSHDB). */
export const deleteKeys = async (redis: Redis, pattern: string): Promise<void> => {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}

/** Stores of one test: own database file, own Redis prefix. */
export const createTestStores = async (
  overrides: { now?: () => number; minuteRetentionMs?: number; hourRetentionMs?: number } = {},
): Promise<TestStores> => {
  const dir = mkdtempSync(join(tmpdir(), 'analytics-test-'))
  const dbUrl = `file:${join(dir, 'analytics.db')}`
  const database = await openDatabase({ url: dbUrl })
  const redis = new Redis(TEST_REDIS_URL)
  const prefix = `test:analytics:${crypto.randomUUID().slice(0, 8)}`
  const uniques = createUniques({
    redis,
    db: database.db,
    prefix,
    hourTtlMs: 8 * 86_400_000,
    dayTtlMs: 40 * 86_400_000,
  })
  const ingest = createIngest({ db: database.db, uniques, ...(overrides.now ? { now: overrides.now } : {}) })
  const rollups = createRollups({
    db: database.db,
    minuteRetentionMs: overrides.minuteRetentionMs ?? 7 * 86_400_000,
    hourRetentionMs: overrides.hourRetentionMs ?? 90 * 86_400_000,
    processedRetentionMs: 30 * 86_400_000,
    ...(overrides.now ? { now: overrides.now } : {}),
  })
  let closed = false
  return {
    dir,
    dbUrl,
    database,
    redis,
    prefix,
    ingest,
    uniques,
    rollups,
    async close() {
      if (closed) return
      closed = true
      await deleteKeys(redis, `${prefix}:*`)
      redis.disconnect()
      database.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** An opaque event for tests: `sample('order.placed', '2026-03-01T10:00:00Z', { tenantId: 't1' })`. */
export const sampleEvent = (
  type: string,
  occurredAt: string | Date,
  o: {
    tenantId?: string
    source?: string
    actor?: string
    payload?: Record<string, unknown>
    id?: string
  } = {},
): AnyEvent =>
  createCustomEvent(type, o.payload ?? {}, {
    source: o.source ?? 'monolith',
    occurredAt: typeof occurredAt === 'string' ? new Date(occurredAt) : occurredAt,
    ...(o.tenantId !== undefined ? { tenantId: o.tenantId } : {}),
    ...(o.actor !== undefined ? { actor: { type: 'user', id: o.actor } } : {}),
    ...(o.id !== undefined ? { id: o.id } : {}),
  })
