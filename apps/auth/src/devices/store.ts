/** Redis records of a user's devices: one hash per user (`P:u:{uid}:devices`, device id → JSON). */
import type { RedisClient } from '@flotilla/streams'

/** A device as stored (times in ms since epoch). */
export interface DeviceRecord {
  readonly id: string
  readonly name?: string
  readonly userAgent?: string
  readonly ip?: string
  readonly firstSeenAt: number
  readonly lastSeenAt: number
}

/** What a sign-in tells about the device. */
export interface DeviceSighting {
  readonly id: string
  readonly name?: string
  readonly userAgent?: string
  readonly ip?: string
}

/** Creates the device store over one Redis connection and key prefix. */
export const createDeviceStore = (redis: RedisClient, prefix: string) => {
  const key = (userId: string) => `${prefix}u:{${userId}}:devices`
  const parse = (raw: string) => JSON.parse(raw) as DeviceRecord

  return {
    /**
     * Records a sign-in from a device; `isNew` is true the first time this user is seen on it.
     * `keepUntil` (ms) extends the record's life to the new session's absolute expiry.
     */
    async sighted(userId: string, device: DeviceSighting, keepUntil: number) {
      const now = Date.now()
      const fresh: DeviceRecord = { ...device, firstSeenAt: now, lastSeenAt: now }
      const isNew = (await redis.hsetnx(key(userId), device.id, JSON.stringify(fresh))) === 1
      let record = fresh
      if (!isNew) {
        const old = await redis.hget(key(userId), device.id)
        const previous = old ? parse(old) : fresh
        // Keep what this sign-in did not say (a name set earlier survives a sign-in without one).
        record = { ...previous, ...device, firstSeenAt: previous.firstSeenAt, lastSeenAt: now }
        await redis.hset(key(userId), device.id, JSON.stringify(record))
      }
      await redis
        .multi()
        .pexpireat(key(userId), keepUntil, 'NX')
        .pexpireat(key(userId), keepUntil, 'GT')
        .exec()
      return { device: record, isNew }
    },

    async get(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
      const raw = await redis.hget(key(userId), deviceId)
      return raw ? parse(raw) : undefined
    },

    /** All devices of a user, most recently seen first. */
    async list(userId: string): Promise<DeviceRecord[]> {
      const all = await redis.hvals(key(userId))
      return all.map(parse).sort((a, b) => b.lastSeenAt - a.lastSeenAt || a.id.localeCompare(b.id))
    },

    /** Forgets a device; true when it existed. */
    async remove(userId: string, deviceId: string): Promise<boolean> {
      return (await redis.hdel(key(userId), deviceId)) === 1
    },

    /** Forgets every device of a user (user deleted). */
    async removeAll(userId: string): Promise<void> {
      await redis.del(key(userId))
    },
  }
}
export type DeviceStore = ReturnType<typeof createDeviceStore>
