/** Chain heads and retention anchors kept outside the audit store (in Redis), for verify to compare against. */
import type { RedisClient } from '@flotilla/streams'

/** A chain head as anchored by an `audit.checkpoint` event (or a retention anchor). */
export interface Checkpoint {
  readonly chain: string
  readonly seq: number
  readonly hash: string
}

/** The latest checkpoint and retention anchor per chain, outside the store. */
export interface ExternalAnchors {
  lastCheckpoint(chain: string): Promise<Checkpoint | null>
  /** Keeps the checkpoint unless a later one (higher seq) is already kept. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>
  lastPruned(chain: string): Promise<Checkpoint | null>
  savePruned(anchor: Checkpoint): Promise<void>
}

// Sets the key only when it is absent or holds a lower seq: anchors never move backwards.
const SAVE_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and tonumber(decoded.seq) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1`

const parse = (chain: string, text: string | null): Checkpoint | null => {
  if (!text) return null
  try {
    const v = JSON.parse(text) as { seq?: unknown; hash?: unknown }
    return typeof v.seq === 'number' && typeof v.hash === 'string'
      ? { chain, seq: v.seq, hash: v.hash }
      : null
  } catch {
    return null
  }
}

/**
 * Redis-backed anchors under `<prefix>checkpoint:<chain>` and `<prefix>pruned:<chain>`.
 * @example createRedisAnchors(redis, 'audit:')
 */
export const createRedisAnchors = (redis: RedisClient, prefix: string): ExternalAnchors => {
  const save = async (kind: string, cp: Checkpoint) => {
    const value = JSON.stringify({ seq: cp.seq, hash: cp.hash, at: new Date().toISOString() })
    await redis.eval(SAVE_IF_NEWER, 1, `${prefix}${kind}:${cp.chain}`, value, String(cp.seq))
  }
  return {
    lastCheckpoint: async (chain) => parse(chain, await redis.get(`${prefix}checkpoint:${chain}`)),
    saveCheckpoint: (cp) => save('checkpoint', cp),
    lastPruned: async (chain) => parse(chain, await redis.get(`${prefix}pruned:${chain}`)),
    savePruned: (cp) => save('pruned', cp),
  }
}
