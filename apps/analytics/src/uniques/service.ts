/**
 * Unique actors with Redis HyperLogLog: PFADD into hourly and daily sketches at ingest, PFCOUNT over the
 * sketches covering a range. Daily sketches are copied into the database (the HLL string dump) and merged back
 * into Redis, so uniques survive a Redis loss and outlive the Redis TTLs.
 */
import { hashSlot, isCluster, type KeyedCommand, pipelineBySlot, type RedisClient } from '@flotilla/streams'
import { sql } from 'drizzle-orm'
import type { AnalyticsConfig } from '../config.ts'
import type { Db } from '../db/types.ts'
import { coverRange } from '../time/cover.ts'
import { DAY_MS, HOUR_MS } from '../time/zone.ts'
import { hllKey, parseTouchedMember, touchedKey, touchedMember } from './keys.ts'

/** One actor seen in one event. */
export interface ActorHit {
  readonly at: number
  readonly type: string
  readonly tenantId: string
  readonly actorId: string
}

/** Which sketches to count: one (type, tenant) pair per matching series. */
export interface SeriesKey {
  readonly type: string
  readonly tenantId: string
}

export interface UniquesOptions {
  readonly redis: RedisClient
  readonly db: Db
  readonly prefix: string
  /** TTL of hourly sketches (they are not persisted). */
  readonly hourTtlMs: number
  /** TTL of daily sketches in Redis (libSQL keeps them for good). */
  readonly dayTtlMs: number
}

export interface UniqueCount {
  readonly value: number
  /** True when an edge hour had expired and its whole day was counted instead. */
  readonly approximate: boolean
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step
// PFCOUNT over more keys than this goes through a temporary PFMERGE.
const MAX_PFCOUNT_KEYS = 500

/** A temporary sketch in the slot of `key` (`prefix:{u:<tenant>}:…`): same hash tag. */
const tempBeside = (prefix: string, key: string) => {
  const tag = key.slice(key.indexOf('{'), key.indexOf('}') + 1)
  return `${prefix}:${tag}:hll:tmp:${crypto.randomUUID()}`
}

/** PFMERGE of `keys` (one slot) into `target` (same slot), in chunks: a command's arguments stay few. */
const mergeInto = async (redis: RedisClient, target: string, keys: readonly string[]) => {
  for (let i = 0; i < keys.length; i += MAX_PFCOUNT_KEYS)
    await redis.pfmerge(target, ...keys.slice(i, i + MAX_PFCOUNT_KEYS))
}

/**
 * The cardinality of the union of HLL sketches, exactly as one PFCOUNT over all of them would give it — also on a
 * Redis Cluster, where sketches of different tenants live in different hash slots and PFCOUNT / PFMERGE refuse
 * keys of several slots (CROSSSLOT). There each slot's sketches are merged in their own slot, the merged sketch is
 * read (GET: an HLL is a plain string) and written beside the largest group, and the union is counted there.
 * A union of sketches is the register-wise maximum, so moving them this way changes nothing: the count is the one
 * a single Redis would give (~0.81% standard error of HyperLogLog itself, no more).
 */
const countUnion = async (redis: RedisClient, prefix: string, keys: readonly string[]): Promise<number> => {
  const bySlot = new Map<number, string[]>()
  for (const key of keys) {
    const slot = isCluster(redis) ? hashSlot(key) : 0
    const group = bySlot.get(slot)
    if (group) group.push(key)
    else bySlot.set(slot, [key])
  }
  const groups = [...bySlot.values()].sort((a, b) => b.length - a.length)
  const [home, ...others] = groups
  if (!home) return 0
  if (others.length === 0 && home.length <= MAX_PFCOUNT_KEYS) return redis.pfcount(...home)
  const temps: string[] = []
  try {
    // Each other slot's union as one sketch, read out of its slot.
    const sketches = await Promise.all(
      others.map(async (group) => {
        if (group.length === 1) return redis.getBuffer(group[0] as string)
        const temp = tempBeside(prefix, group[0] as string)
        temps.push(temp)
        await mergeInto(redis, temp, group)
        return redis.getBuffer(temp)
      }),
    )
    const target = tempBeside(prefix, home[0] as string)
    temps.push(target)
    const moved = sketches.filter((sketch): sketch is Buffer => sketch !== null)
    const copies = moved.map(() => tempBeside(prefix, home[0] as string))
    temps.push(...copies)
    await Promise.all(copies.map((copy, i) => redis.set(copy, moved[i] as Buffer, 'PX', 60_000)))
    await mergeInto(redis, target, [...home, ...copies])
    return await redis.pfcount(target)
  } finally {
    await Promise.all(temps.map((temp) => redis.del(temp).catch(() => 0)))
  }
}

/** Creates the uniques service. */
export const createUniques = (o: UniquesOptions) => {
  const { redis, db, prefix } = o

  const storedSketch = async (d: { day: number; type: string; tenantId: string }) => {
    const [row] = await db.all<{ hll: Uint8Array }>(
      sql`SELECT hll FROM uniques_daily WHERE day = ${d.day} AND tenant_id = ${d.tenantId} AND type = ${d.type}`,
    )
    return row
  }

  /** Restores daily sketches Redis no longer has (expired or lost) from libSQL. */
  const restoreDays = async (days: readonly { day: number; type: string; tenantId: string }[]) => {
    if (days.length === 0) return
    const keys = days.map((d) => hllKey(prefix, 'day', d.day, d.type, d.tenantId))
    const exists = await pipelineBySlot(
      redis,
      keys.map((k) => ['exists', k] as const),
    )
    for (const [i, d] of days.entries()) {
      if (exists[i] === 1) continue
      const row = await storedSketch(d)
      // SET NX: a sketch that reappeared meanwhile (a PFADD) is merged by the next persist run instead.
      if (row) await redis.set(keys[i] as string, Buffer.from(row.hll), 'PX', o.dayTtlMs, 'NX')
    }
  }

  return {
    /** Adds actors to their hourly and daily sketches (idempotent: a set union). */
    async add(hits: readonly ActorHit[]): Promise<void> {
      if (hits.length === 0) return
      const groups = new Map<string, { ttl: number; ids: Set<string>; touched?: string }>()
      const put = (key: string, ttl: number, id: string, touched?: string) => {
        let g = groups.get(key)
        if (!g) {
          g = { ttl, ids: new Set(), ...(touched ? { touched } : {}) }
          groups.set(key, g)
        }
        g.ids.add(id)
      }
      for (const h of hits) {
        const hour = floorTo(h.at, HOUR_MS)
        const day = floorTo(h.at, DAY_MS)
        put(hllKey(prefix, 'hour', hour, h.type, h.tenantId), o.hourTtlMs, h.actorId)
        put(
          hllKey(prefix, 'day', day, h.type, h.tenantId),
          o.dayTtlMs,
          h.actorId,
          touchedMember(day, h.type, h.tenantId),
        )
      }
      // One pipeline per slot: a tenant's sketches share one, the touched set has its own.
      const commands: KeyedCommand[] = []
      for (const [key, g] of groups) {
        commands.push(['pfadd', key, ...g.ids], ['pexpire', key, g.ttl])
        if (g.touched) commands.push(['sadd', touchedKey(prefix), g.touched])
      }
      await pipelineBySlot(redis, commands)
    },

    /** Distinct actors over `[from, to)` across the given series (HLL union, ~0.8% standard error). */
    async count(
      series: readonly SeriesKey[],
      from: number,
      to: number,
      now = Date.now(),
    ): Promise<UniqueCount> {
      if (series.length === 0 || to <= from) return { value: 0, approximate: false }
      let approximate = false
      const keys = new Set<string>()
      const days: { day: number; type: string; tenantId: string }[] = []
      const seenDays = new Set<string>()
      const addDay = (day: number, s: SeriesKey) => {
        const key = hllKey(prefix, 'day', day, s.type, s.tenantId)
        keys.add(key)
        if (!seenDays.has(key)) {
          seenDays.add(key)
          days.push({ day, ...s })
        }
      }
      for (const segment of coverRange(from, to, 'hour')) {
        const step = segment.grain === 'day' ? DAY_MS : HOUR_MS
        for (let t = segment.start; t < segment.end; t += step) {
          for (const s of series) {
            if (segment.grain === 'day') addDay(t, s)
            else if (t + HOUR_MS <= now - o.hourTtlMs) {
              // The hourly sketch has expired: the day's sketch is the closest superset we still have.
              approximate = true
              addDay(floorTo(t, DAY_MS), s)
            } else keys.add(hllKey(prefix, 'hour', t, s.type, s.tenantId))
          }
        }
      }
      await restoreDays(days)
      return { value: await countUnion(redis, prefix, [...keys]), approximate }
    },

    /**
     * Copies changed daily sketches into libSQL, merging both ways: Redis ∪ stored goes to both sides, so a
     * sketch rebuilt after a Redis loss regains what it had. Returns how many sketches were written.
     */
    async persist(limit = 1000): Promise<number> {
      const members = await redis.srandmember(touchedKey(prefix), limit)
      let written = 0
      for (const member of members) {
        const m = parseTouchedMember(member)
        if (!m) {
          await redis.srem(touchedKey(prefix), member)
          continue
        }
        const key = hllKey(prefix, 'day', m.day, m.type, m.tenantId)
        const stored = await storedSketch(m)
        // Remove the marker first: a PFADD after this point marks the sketch again.
        await redis.srem(touchedKey(prefix), member)
        if (stored) {
          const temp = `${prefix}:{u:${m.tenantId}}:hll:tmp:${crypto.randomUUID()}`
          await redis
            .multi()
            .set(temp, Buffer.from(stored.hll), 'PX', 60_000)
            .pfmerge(key, key, temp)
            .del(temp)
            .exec()
          await redis.pexpire(key, o.dayTtlMs)
        }
        const dump = await redis.getBuffer(key)
        if (!dump) continue
        await db.run(sql`INSERT INTO uniques_daily (day, tenant_id, type, hll, updated_at)
          VALUES (${m.day}, ${m.tenantId}, ${m.type}, ${dump}, ${Date.now()})
          ON CONFLICT (day, tenant_id, type) DO UPDATE SET hll = excluded.hll, updated_at = excluded.updated_at`)
        written++
      }
      return written
    },

    /** Puts daily sketches Redis no longer has back from libSQL. */
    restoreDays,
  }
}

export type Uniques = ReturnType<typeof createUniques>

/** The uniques service as configured: the Redis key prefix and the sketch TTLs from the service's config. */
export const createConfiguredUniques = (
  config: Pick<AnalyticsConfig, 'ANALYTICS_REDIS_PREFIX' | 'hllHourTtlMs' | 'hllDayTtlMs'>,
  { redis, db }: { readonly redis: RedisClient; readonly db: Db },
): Uniques =>
  createUniques({
    redis,
    db,
    prefix: config.ANALYTICS_REDIS_PREFIX,
    hourTtlMs: config.hllHourTtlMs,
    dayTtlMs: config.hllDayTtlMs,
  })
