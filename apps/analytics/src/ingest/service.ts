/**
 * Counting a batch of events exactly once: the batch's new envelope ids, its minute counters, the dirty
 * marks for rollups and the duration sketches are written in one transaction, so a redelivered or
 * replayed event finds its id already recorded and counts nothing.
 */
import type { AnyEvent } from '@flotilla/contracts'
import type { Db, MinuteCell } from '../db/types.ts'
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

const floorTo = (t: number, step: number) => Math.floor(t / step) * step

/** The actor identity counted as "unique": `<type>:<id>`. */
const actorOf = (e: AnyEvent): string | undefined => (e.actor ? `${e.actor.type}:${e.actor.id}` : undefined)

const LONE_SURROGATE = /\p{Surrogate}/u
/**
 * The tenant as libSQL stores a bound string: a lone UTF-16 surrogate becomes U+FFFD. Text that reaches SQLite
 * through JSON would keep it (as invalid UTF-8) and then never match a bound tenant in a query.
 */
const storedTenant = (e: AnyEvent): string => {
  const tenant = e.tenantId ?? ''
  return LONE_SURROGATE.test(tenant) ? tenant.replace(/\p{Surrogate}/gu, '\uFFFD') : tenant
}

/** What a batch's new events add: minute cells, dirty hours and days, and duration values per series. */
const aggregate = (events: readonly AnyEvent[]) => {
  const cells = new Map<string, MinuteCell>()
  const hours = new Set<number>()
  const days = new Set<number>()
  const durations = new Map<string, { bucket: number; tenantId: string; type: string; values: number[] }>()
  for (const e of events) {
    const t = Date.parse(e.occurredAt)
    const bucket = floorTo(t, MINUTE_MS)
    const hour = floorTo(t, HOUR_MS)
    const tenantId = storedTenant(e)
    const key = `${bucket}\u0000${tenantId}\u0000${e.type}\u0000${e.source}`
    const cell = cells.get(key)
    if (cell) cell[4]++
    else cells.set(key, [bucket, tenantId, e.type, e.source, 1])
    hours.add(hour)
    days.add(floorTo(t, DAY_MS))
    const duration = durationOf(e.payload)
    if (duration !== undefined) {
      const dKey = `${hour}\u0000${tenantId}\u0000${e.type}`
      const d = durations.get(dKey) ?? { bucket: hour, tenantId, type: e.type, values: [] }
      d.values.push(duration)
      durations.set(dKey, d)
    }
  }
  const dirty = [...[...hours].map((b) => ['hour', b] as const), ...[...days].map((b) => ['day', b] as const)]
  return { cells: [...cells.values()], dirty, durations: [...durations.values()] }
}

/** The counting transaction: ids, counters, dirty marks and sketches commit together or not at all. */
const countOnce = (db: Db, events: readonly AnyEvent[], at: number): Promise<IngestResult> => {
  const firsts = new Map<string, AnyEvent>()
  for (const e of events) if (!firsts.has(e.id)) firsts.set(e.id, e)
  return db.ingest(async (tx) => {
    const fresh = (await tx.recordIds([...firsts.keys()], at)).map((id) => firsts.get(id) as AnyEvent)
    if (fresh.length > 0) {
      const { cells, dirty, durations } = aggregate(fresh)
      // Independent statements: sent together (pipelined on PostgreSQL), still inside the one transaction.
      await Promise.all([tx.addMinuteCounts(cells), tx.markDirty(dirty)])
      // Merged into the stored sketches of their (hour, tenant, type) series.
      if (durations.length > 0) {
        const stored = await tx.readSketches(durations.map((d) => [d.bucket, d.tenantId, d.type] as const))
        await tx.writeSketches(
          durations.map((d, i) => {
            const bytes = stored.get(i)
            const sketch = bytes ? decodeSketch(bytes) : newSketch()
            for (const v of d.values) sketch.accept(v)
            return [d.bucket, d.tenantId, d.type, encodeSketch(sketch)] as const
          }),
        )
      }
    }
    return { counted: fresh.length, duplicates: events.length - fresh.length }
  })
}

/** Creates the ingest service. */
export const createIngest = ({ db, uniques, now = Date.now }: IngestDeps) => ({
  /**
   * Counts a batch. Uniques go to Redis beside the transaction (its round trip overlaps the SQL): adding
   * an actor to a HyperLogLog is a set union, and every event's actor is added whether or not its id was
   * counted before, so when either side fails the batch is retried and re-adds them harmlessly. The call
   * settles only after both, so the consumer acks nothing that is not in both stores.
   */
  async ingestBatch(events: readonly AnyEvent[]): Promise<IngestResult> {
    if (events.length === 0) return { counted: 0, duplicates: 0 }
    const hits: ActorHit[] = []
    for (const e of events) {
      const actorId = actorOf(e)
      if (actorId)
        hits.push({ at: Date.parse(e.occurredAt), type: e.type, tenantId: e.tenantId ?? '', actorId })
    }
    const [added, counted] = await Promise.allSettled([uniques.add(hits), countOnce(db, events, now())])
    if (added.status === 'rejected') throw added.reason
    if (counted.status === 'rejected') throw counted.reason
    return counted.value
  },
})

export type Ingest = ReturnType<typeof createIngest>
