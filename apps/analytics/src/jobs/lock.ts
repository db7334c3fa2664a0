/**
 * A Redis lock for "one instance runs this": SET NX PX with a random token; extend and release only while
 * the token still matches (compare-and-set scripts), so an instance whose lock expired never frees or
 * prolongs the lock another instance holds now.
 */
import type { Redis } from 'ioredis'

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

export interface Lock {
  /** Takes the lock; returns its token, or `undefined` when another holder has it. */
  acquire(): Promise<string | undefined>
  /** Pushes the expiry out by `ttlMs` if `token` still holds the lock. */
  extend(token: string): Promise<boolean>
  /** Frees the lock if `token` still holds it. */
  release(token: string): Promise<boolean>
}

/** Creates a lock on one key. */
export const createLock = (redis: Redis, key: string, ttlMs: number): Lock => ({
  async acquire() {
    const token = crypto.randomUUID()
    return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : undefined
  },
  async extend(token) {
    return (await redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1
  },
  async release(token) {
    return (await redis.eval(RELEASE, 1, key, token)) === 1
  },
})
