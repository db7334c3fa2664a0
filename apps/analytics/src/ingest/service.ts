/**
 * Counting a batch of events exactly once: the batch's new envelope ids, its minute counters, the dirty
 * marks for rollups and the duration sketches are written in one transaction, so a redelivered or
 * replayed event finds its id already recorded and counts nothing.
 */
import type { AnyEvent } from '@flotilla/contracts'
import { and, eq, inArray, or, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { counts, dirtyBuckets, durationSketches, processedEvents } from '../db/schema.ts'
import { decodeSketch, durationOf, encodeSketch, newSketch } from '../percentiles/sketch.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time/zone.ts'
import type { ActorHit, Uniques } from '../uniques/service.ts'

export interface IngestResult {
  /** Events counted by this call. */
  readonly counted: number
  /** Events skipped because their id had been counted before (or twice in the batch). */
  readonly duplicates: number
}

export interface IngestDeps {
  readonly db: Db
  readonly uniques: Uniques
  readonly now?: () => number
}

// SQLite bound-parameter budget per statement, with room to spare.
const ROWS_PER_STATEMENT = 150

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step

/** The actor identity counted as "unique": `<type>:<id>`. */
const actorOf = (e: AnyEvent): string | undefined => (e.actor ? `${e.actor.type}:${e.actor.id}` : undefined)

/** Creates the ingest service. */
export const createIngest = ({ db, uniques, now = Date.now }: IngestDeps) => ({
  /**
   * Counts a batch. Uniques go to Redis first (a set union, harmless to repeat), then the counters
   * commit with the ids in one write transaction.
   */
  async ingestBatch(events: readonly AnyEvent[]): Promise<IngestResult> {
    if (events.length === 0) return { counted: 0, duplicates: 0 }
    const hits: ActorHit[] = []
    for (const e of events) {
      const actorId = actorOf(e)
      if (actorId)
        hits.push({ at: Date.parse(e.occurredAt), type: e.type, tenantId: e.tenantId ?? '', actorId })
    }
    await uniques.add(hits)

    return db.transaction(async (tx) => {
      const at = now()
      const fresh = new Set<string>()
      const ids = [...new Set(events.map((e) => e.id))]
      for (const part of chunks(ids, ROWS_PER_STATEMENT)) {
        const inserted = await tx
          .insert(processedEvents)
          .values(part.map((id) => ({ id, processedAt: at })))
          .onConflictDoNothing()
          .returning({ id: processedEvents.id })
        for (const row of inserted) fresh.add(row.id)
      }
      const counted: AnyEvent[] = []
      for (const e of events) {
        if (fresh.delete(e.id)) counted.push(e)
      }
      if (counted.length === 0) return { counted: 0, duplicates: events.length }

      const cells = new Map<
        string,
        { bucket: number; tenantId: string; type: string; source: string; count: number }
      >()
      const hours = new Set<number>()
      const days = new Set<number>()
      const durations = new Map<
        string,
        { bucket: number; tenantId: string; type: string; values: number[] }
      >()
      for (const e of counted) {
        const t = Date.parse(e.occurredAt)
        const bucket = floorTo(t, MINUTE_MS)
        const tenantId = e.tenantId ?? ''
        const key = `${bucket}\u0000${tenantId}\u0000${e.type}\u0000${e.source}`
        const cell = cells.get(key)
        if (cell) cell.count++
        else cells.set(key, { bucket, tenantId, type: e.type, source: e.source, count: 1 })
        hours.add(floorTo(t, HOUR_MS))
        days.add(floorTo(t, DAY_MS))
        const duration = durationOf(e.payload)
        if (duration !== undefined) {
          const hour = floorTo(t, HOUR_MS)
          const dKey = `${hour}\u0000${tenantId}\u0000${e.type}`
          const d = durations.get(dKey) ?? { bucket: hour, tenantId, type: e.type, values: [] }
          d.values.push(duration)
          durations.set(dKey, d)
        }
      }
      for (const part of chunks([...cells.values()], ROWS_PER_STATEMENT)) {
        await tx
          .insert(counts)
          .values(part.map((c) => ({ grain: 'minute' as const, ...c })))
          .onConflictDoUpdate({
            target: [counts.grain, counts.bucket, counts.tenantId, counts.type, counts.source],
            set: { count: sql`${counts.count} + excluded.count` },
          })
      }
      const dirty = [
        ...[...hours].map((bucket) => ({ grain: 'hour' as const, bucket })),
        ...[...days].map((bucket) => ({ grain: 'day' as const, bucket })),
      ]
      for (const part of chunks(dirty, ROWS_PER_STATEMENT)) {
        await tx.insert(dirtyBuckets).values(part).onConflictDoNothing()
      }
      // Duration sketches: one read and one multi-row upsert per statement-sized chunk, not one per series.
      for (const part of chunks([...durations.values()], 50)) {
        const existing = await tx
          .select()
          .from(durationSketches)
          .where(
            or(
              ...part.map((d) =>
                and(
                  eq(durationSketches.bucket, d.bucket),
                  eq(durationSketches.tenantId, d.tenantId),
                  eq(durationSketches.type, d.type),
                ),
              ),
            ),
          )
        const stored = new Map(
          existing.map((r) => [`${r.bucket}\u0000${r.tenantId}\u0000${r.type}`, r.sketch]),
        )
        const rows = part.map((d) => {
          const bytes = stored.get(`${d.bucket}\u0000${d.tenantId}\u0000${d.type}`)
          const sketch = bytes ? decodeSketch(bytes) : newSketch()
          for (const v of d.values) sketch.accept(v)
          return { bucket: d.bucket, tenantId: d.tenantId, type: d.type, sketch: encodeSketch(sketch) }
        })
        await tx
          .insert(durationSketches)
          .values(rows)
          .onConflictDoUpdate({
            target: [durationSketches.bucket, durationSketches.tenantId, durationSketches.type],
            set: { sketch: sql`excluded.sketch` },
          })
      }
      return { counted: counted.length, duplicates: events.length - counted.length }
    })
  },
})

export type Ingest = ReturnType<typeof createIngest>

/** Ids of the given events that are already counted (for tests and replays). */
export const countedIds = async (db: Db, ids: readonly string[]): Promise<Set<string>> => {
  const out = new Set<string>()
  for (const part of chunks(ids, ROWS_PER_STATEMENT)) {
    const rows = await db
      .select({ id: processedEvents.id })
      .from(processedEvents)
      .where(inArray(processedEvents.id, part))
    for (const r of rows) out.add(r.id)
  }
  return out
}
