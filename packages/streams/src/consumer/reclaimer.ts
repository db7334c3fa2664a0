/**
 * The reclaimer: finds pending entries that have waited long enough (XPENDING, extended form, which carries
 * delivery counts and idle times) and claims them (XCLAIM) for another delivery, or dead-letters them once
 * they have used up `maxDeliveries`. XAUTOCLAIM is not used: it applies one idle threshold to a whole range
 * and returns no delivery counts, while each entry here waits its own backoff. Entries of a consumer that is
 * provably dead (no heartbeat) are taken without waiting for `claimIdleMs`.
 */
import { retryDelayFor } from '../backoff.ts'
import { readPending } from './group.ts'
import { deadConsumers } from './heartbeat.ts'
import { deadLetter, processBatch } from './process.ts'
import { type Delivery, fieldsToRecord, type PendingEntry, parseEntries } from './replies.ts'
import { callHook, type Runtime } from './runtime.ts'

// How many pages of other consumers' stale entries one pass looks through.
const MAX_PAGES = 10

/**
 * Own entries: due once their retry time has passed. Own entries without one were never seen failing here
 * (a read whose reply is still on its way, or one a hung read swallowed): they wait `claimIdleMs` like
 * anyone else's, so an entry is never handled twice at once.
 */
const ownDue = async (rt: Runtime, now: number): Promise<PendingEntry[]> => {
  const rows = await readPending(rt.command(), rt.stream, rt.group, {
    start: '-',
    end: '+',
    count: rt.batchSize * 2,
    consumer: rt.name,
  })
  if (rows.length < rt.batchSize * 2) {
    // The whole own pending list is in view: forget retry times of entries no longer ours (claimed elsewhere).
    const pending = new Set(rows.map((row) => row.id))
    for (const id of rt.retryAt.keys()) if (!pending.has(id) && !rt.inFlight.has(id)) rt.retryAt.delete(id)
    for (const id of rt.lastErrors.keys())
      if (!pending.has(id) && !rt.inFlight.has(id)) rt.lastErrors.delete(id)
  }
  return rows.filter((row) => {
    if (rt.inFlight.has(row.id)) return false
    const at = rt.retryAt.get(row.id)
    if (at !== undefined) return now >= at
    // The idle test first: the delay's hash is paid only by entries idle past claimIdleMs (rarely any).
    return row.idleMs >= rt.claimIdleMs && row.idleMs >= retryDelayFor(row.id, row.deliveryCount, rt.backoff)
  })
}

/**
 * Other consumers' entries whose backoff has passed and whose owner is gone: any owner once an entry is idle
 * past `claimIdleMs`, and at once (whatever the idle time) when the owner is provably dead — no heartbeat
 * (`heartbeat.ts`). The XCLAIM in `takeOver` still uses the idle time seen here, so two reclaimers racing for
 * the same entry take it once.
 */
const othersDue = async (rt: Runtime, limit: number): Promise<PendingEntry[]> => {
  const due: PendingEntry[] = []
  const seen = new Set<string>()
  const consider = (row: PendingEntry) => {
    if (row.consumer === rt.name || rt.inFlight.has(row.id) || seen.has(row.id)) return
    if (row.idleMs < retryDelayFor(row.id, row.deliveryCount, rt.backoff)) return
    seen.add(row.id)
    due.push(row)
  }
  const dead = await deadConsumers(rt, rt.heartbeatTtlMs)
  for (const consumer of dead) {
    if (due.length >= limit) break
    const rows = await readPending(rt.command(), rt.stream, rt.group, {
      start: '-',
      end: '+',
      count: rt.batchSize * 2,
      consumer,
    })
    if (rows.length > 0)
      rt.logger.info(
        { stream: rt.stream, group: rt.group, consumer: rt.name, dead: consumer, pending: rows.length },
        'taking over the pending entries of a consumer with no heartbeat',
      )
    for (const row of rows) consider(row)
  }
  let start = '-'
  for (let page = 0; page < MAX_PAGES && due.length < limit; page++) {
    const rows = await readPending(rt.command(), rt.stream, rt.group, {
      start,
      end: '+',
      count: rt.batchSize * 2,
      minIdleMs: rt.claimIdleMs,
    })
    for (const row of rows) consider(row)
    const last = rows.at(-1)
    if (!last || rows.length < rt.batchSize * 2) break
    start = `(${last.id}`
  }
  return due.slice(0, limit)
}

/** One pass; resolves to how many entries it took over. */
export const reclaimOnce = async (rt: Runtime): Promise<number> => {
  const own = await ownDue(rt, Date.now())
  const candidates = [...own, ...(await othersDue(rt, rt.batchSize - own.length))]
    .filter((row) => !rt.inFlight.has(row.id))
    .slice(0, rt.batchSize)
  if (candidates.length === 0) return 0
  // Another consumer's entries that a takeover already failed to settle (delivered twice or more, never
  // acked) may hold one that kills its process: take those one at a time, so such an entry takes down only
  // itself and the delivery counts of its batch-mates stop climbing towards maxDeliveries.
  const suspects = candidates.filter((row) => row.consumer !== rt.name && row.deliveryCount >= 2)
  // Claimed inside the exclusive section: an entry's delivery count grows only right before it is handled,
  // never while it waits behind another batch that may take the process down.
  // Marked in flight before waiting, so a history read meanwhile leaves them alone.
  for (const row of candidates) rt.inFlight.add(row.id)
  if (suspects.length === 0) return rt.exclusive(() => takeOver(rt, candidates))
  for (const row of candidates) if (!suspects.includes(row)) rt.inFlight.delete(row.id)
  let taken = 0
  for (const [i, row] of suspects.entries()) {
    try {
      taken += await rt.exclusive(() => takeOver(rt, [row]))
    } catch (error) {
      for (const rest of suspects.slice(i + 1)) rt.inFlight.delete(rest.id)
      throw error
    }
  }
  return taken
}

/** Claims the candidates (or dead-letters those out of deliveries) and processes them as one batch. Run it exclusively. */
const takeOver = async (rt: Runtime, candidates: readonly PendingEntry[]): Promise<number> => {
  for (const row of candidates) rt.inFlight.add(row.id)

  const claimed: Delivery[] = []
  const exhausted: { row: PendingEntry; fields: Record<string, string> | null }[] = []
  const deleted: string[] = []
  try {
    const pipeline = rt.command().pipeline()
    for (const row of candidates) {
      // The existence probe tells "deleted" from "someone else claimed it first": Redis 7 XCLAIM drops both silently.
      pipeline.xrange(rt.stream, row.id, row.id)
      // MIN-IDLE-TIME = the idle time just seen: if another consumer claimed it since, its idle reset and we skip it.
      pipeline.xclaim(rt.stream, rt.group, rt.name, row.idleMs, row.id)
    }
    const results = (await pipeline.exec()) ?? []
    candidates.forEach((row, i) => {
      const [probeError, probe] = results[2 * i] ?? [null, null]
      const [claimError, claim] = results[2 * i + 1] ?? [null, null]
      if (probeError || claimError) throw probeError ?? claimError
      const entry = parseEntries(claim)[0]
      if (parseEntries(probe).length === 0 || (entry && entry.fields === null)) {
        deleted.push(row.id)
        return
      }
      if (!entry) return
      if (row.deliveryCount >= rt.maxDeliveries) {
        exhausted.push({ row, fields: entry.fields ? fieldsToRecord(entry.fields) : null })
        return
      }
      claimed.push({ id: row.id, fields: entry.fields, deliveryCount: row.deliveryCount + 1 })
    })
  } catch (error) {
    for (const row of candidates) rt.inFlight.delete(row.id)
    throw error
  }
  const taken = new Set([...claimed.map((d) => d.id), ...exhausted.map((e) => e.row.id)])
  for (const row of candidates) if (!taken.has(row.id)) rt.inFlight.delete(row.id)
  rt.counters.reclaimed += taken.size

  for (const id of deleted) {
    rt.counters.deletedEntries++
    callHook(rt, 'onDeletedEntry', { stream: rt.stream, group: rt.group, streamId: id })
  }
  // Redis 7 already dropped deleted ids from the pending list; 6.2 returns them claimed as nil: ack those.
  if (deleted.length > 0) rt.acker.add(deleted)

  if (exhausted.length > 0) await deadLetterExhausted(rt, exhausted)
  await processBatch(rt, claimed)
  return taken.size + deleted.length
}

const deadLetterExhausted = async (
  rt: Runtime,
  exhausted: readonly { row: PendingEntry; fields: Record<string, string> | null }[],
): Promise<void> => {
  const items = exhausted.map(({ row, fields }) => ({
    id: row.id,
    fields,
    deliveries: row.deliveryCount,
    reason: rt.lastErrors.get(row.id) ?? {
      code: 'MAX_DELIVERIES',
      message: `not acked after ${row.deliveryCount} deliveries (last consumer: ${row.consumer})`,
    },
  }))
  try {
    await deadLetter(rt, items)
  } finally {
    for (const item of items) rt.inFlight.delete(item.id)
  }
}
