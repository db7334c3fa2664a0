/** A Redis lock (SET NX PX with a random token) so one instance runs a periodic job at a time. */
import type Redis from 'ioredis'

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

/**
 * Runs `fn` only if the lock is free; the lock is renewed while `fn` runs and released (only if still ours)
 * afterwards. Returns `{ ran: false }` when another instance holds it.
 */
export const withLock = async <T>(
  redis: Redis,
  key: string,
  ttlMs: number,
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> => {
  const token = crypto.randomUUID()
  const acquired = await redis.set(key, token, 'PX', ttlMs, 'NX')
  if (acquired !== 'OK') return { ran: false }
  const renew = setInterval(
    () => {
      redis.eval(EXTEND, 1, key, token, String(ttlMs)).catch(() => undefined)
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  )
  try {
    return { ran: true, value: await fn() }
  } finally {
    clearInterval(renew)
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined)
  }
}
