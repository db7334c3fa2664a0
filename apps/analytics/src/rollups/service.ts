/**
 * Rollups minute → hour → day and retention. A rollup recomputes a target bucket from its sources
 * (DELETE + INSERT … SELECT SUM) instead of adding to it, so it is idempotent and safe to re-run; ingest
 * marks the hour and day of every counted event dirty, so late events fold into buckets already rolled up.
 */
import { sql } from 'drizzle-orm'
import type { Db, Queries } from '../db/types.ts'
import { DAY_MS, HOUR_MS } from '../time/zone.ts'

type Tx = Queries

export interface RollupOptions {
  readonly db: Db
  /** Minute rows older than this are compacted into one row per hour. @defaultValue 7 days */
  readonly minuteRetentionMs: number
  /** Hour rows older than this are compacted into one row per day. @defaultValue 90 days */
  readonly hourRetentionMs: number
  /** Processed-id records older than this are deleted (must exceed any redelivery/replay window). */
  readonly processedRetentionMs: number
  readonly now?: () => number
}

export interface RollupResult {
  readonly hours: number
  readonly days: number
}

export interface RetentionResult {
  readonly compactedHours: number
  readonly compactedDays: number
  readonly prunedIds: number
  readonly prunedJobRuns: number
}

/** How long `job_runs` rows are kept. */
const JOB_RUN_RETENTION_MS = 7 * DAY_MS

// Buckets per write transaction: keeps each transaction short so ingest never waits long.
const BUCKETS_PER_TX = 100

/** Creates the rollup and retention service. */
export const createRollups = (o: RollupOptions) => {
  const { db } = o
  const now = o.now ?? Date.now

  const recompute = async (target: 'hour' | 'day', buckets: readonly number[]): Promise<number> => {
    const source = target === 'hour' ? 'minute' : 'hour'
    const size = target === 'hour' ? HOUR_MS : DAY_MS
    return db.transaction(async (tx) => {
      let done = 0
      for (const bucket of buckets) {
        if (target === 'day') {
          // A day is recomputed only from clean hours; it stays dirty (read from hours) until they are.
          const pending = await tx.all(
            sql`SELECT 1 FROM dirty_buckets WHERE grain = 'hour' AND bucket >= ${bucket} AND bucket < ${bucket + size} LIMIT 1`,
          )
          if (pending.length > 0) continue
        }
        await tx.run(sql`DELETE FROM counts WHERE grain = ${target} AND bucket = ${bucket}`)
        await tx.run(sql`INSERT INTO counts (grain, bucket, tenant_id, type, source, count)
          SELECT ${target}, CAST(${bucket} AS BIGINT), tenant_id, type, source, SUM(count) FROM counts
          WHERE grain = ${source} AND bucket >= ${bucket} AND bucket < ${bucket + size}
          GROUP BY tenant_id, type, source`)
        await tx.run(sql`DELETE FROM dirty_buckets WHERE grain = ${target} AND bucket = ${bucket}`)
        done++
      }
      return done
    })
  }

  const dirty = async (grain: 'hour' | 'day', limit: number): Promise<number[]> =>
    (
      await db.all<{ bucket: number }>(
        sql`SELECT bucket FROM dirty_buckets WHERE grain = ${grain} ORDER BY bucket LIMIT ${limit}`,
      )
    ).map((r) => Number(r.bucket))

  const sumsOf = (tx: Tx, start: number, end: number) =>
    tx.all<{ tenant_id: string; type: string; source: string; total: number }>(
      sql`SELECT tenant_id, type, source, SUM(count) AS total FROM counts
        WHERE grain = 'minute' AND bucket >= ${start} AND bucket < ${end} GROUP BY tenant_id, type, source`,
    )

  const insertAt = async (
    tx: Tx,
    grain: 'minute' | 'hour',
    bucket: number,
    sums: Awaited<ReturnType<typeof sumsOf>>,
  ) => {
    for (const s of sums) {
      await tx.run(sql`INSERT INTO counts (grain, bucket, tenant_id, type, source, count)
        VALUES (${grain}, ${bucket}, ${s.tenant_id}, ${s.type}, ${s.source}, ${s.total})`)
    }
  }

  /**
   * Collapses old buckets into one row at the start of each hour (`size` = hour: minute rows) or day
   * (`size` = day: minute and hour rows alike, both from the minutes, which stay the source of truth).
   * Every grain keeps its sums, so rollups recomputed later — late events included — stay exact.
   */
  const compact = async (size: number, horizon: number): Promise<number> => {
    const before = Math.floor(horizon / size) * size
    const grains = size === HOUR_MS ? sql`grain = 'minute'` : sql`grain IN ('minute', 'hour')`
    const targets = (
      await db.all<{ b: number }>(
        sql`SELECT DISTINCT bucket - bucket % ${size} AS b FROM counts
          WHERE ${grains} AND bucket < ${before} AND bucket % ${size} != 0 LIMIT 500`,
      )
    ).map((r) => Number(r.b))
    for (let i = 0; i < targets.length; i += BUCKETS_PER_TX) {
      await db.transaction(async (tx) => {
        for (const start of targets.slice(i, i + BUCKETS_PER_TX)) {
          const end = start + size
          const sums = await sumsOf(tx, start, end)
          await tx.run(sql`DELETE FROM counts WHERE ${grains} AND bucket >= ${start} AND bucket < ${end}`)
          await insertAt(tx, 'minute', start, sums)
          if (size === DAY_MS) {
            await insertAt(tx, 'hour', start, sums)
            // The day's hours now match its minutes; the day row is recomputed from them.
            await tx.run(
              sql`DELETE FROM dirty_buckets WHERE grain = 'hour' AND bucket >= ${start} AND bucket < ${end}`,
            )
            await tx.run(
              sql`INSERT INTO dirty_buckets (grain, bucket) VALUES ('day', ${start}) ON CONFLICT DO NOTHING`,
            )
          }
        }
      })
    }
    return targets.length
  }

  return {
    /** Rolls up every dirty hour, then every dirty day whose hours are clean. Re-running is harmless. */
    async rollupDirty(): Promise<RollupResult> {
      let hours = 0
      let days = 0
      for (;;) {
        const batch = await dirty('hour', BUCKETS_PER_TX)
        if (batch.length === 0) break
        hours += await recompute('hour', batch)
      }
      let offset = 0
      for (;;) {
        const batch = (await dirty('day', BUCKETS_PER_TX + offset)).slice(offset)
        if (batch.length === 0) break
        const done = await recompute('day', batch)
        days += done
        // Days skipped because an hour turned dirty meanwhile stay at the head of the list.
        offset += batch.length - done
      }
      return { hours, days }
    },

    /** Marks every hour and day holding minute rows in `[from, to)` dirty and rolls them up again. */
    async rebuild(from: number, to: number): Promise<RollupResult> {
      await db.run(sql`INSERT INTO dirty_buckets (grain, bucket)
        SELECT DISTINCT 'hour', bucket - bucket % ${HOUR_MS} FROM counts
        WHERE grain = 'minute' AND bucket >= ${from} AND bucket < ${to} ON CONFLICT DO NOTHING`)
      await db.run(sql`INSERT INTO dirty_buckets (grain, bucket)
        SELECT DISTINCT 'day', bucket - bucket % ${DAY_MS} FROM counts
        WHERE grain = 'minute' AND bucket >= ${from} AND bucket < ${to} ON CONFLICT DO NOTHING`)
      return this.rollupDirty()
    },

    /**
     * Retention: minute rows older than `minuteRetentionMs` become one row per hour, hour rows older
     * than `hourRetentionMs` one row per day (totals stay exact, so rollups stay recomputable), and
     * processed-id records older than `processedRetentionMs` are deleted.
     */
    async retain(): Promise<RetentionResult> {
      const at = now()
      const compactedHours = await compact(HOUR_MS, at - o.minuteRetentionMs)
      const compactedDays = await compact(DAY_MS, at - o.hourRetentionMs)
      let prunedIds = 0
      for (;;) {
        const r = await db.run(sql`DELETE FROM processed_events WHERE id IN (
          SELECT id FROM processed_events WHERE processed_at < ${at - o.processedRetentionMs} LIMIT 5000)`)
        prunedIds += r.rowsAffected
        if (r.rowsAffected < 5000) break
      }
      // Job records only need to outlive the slots they guard and the dashboard's recent list.
      const prunedJobRuns = (
        await db.run(sql`DELETE FROM job_runs WHERE started_at < ${at - JOB_RUN_RETENTION_MS}`)
      ).rowsAffected
      return { compactedHours, compactedDays, prunedIds, prunedJobRuns }
    },
  }
}

export type Rollups = ReturnType<typeof createRollups>
