/**
 * Lua scripts for the session records. Each touches only the keys of one session, which share the hash
 * tag `{<sessionId>}`, so they run on Redis Cluster too.
 */

/**
 * Spends a refresh token exactly once.
 * KEYS: session hash, spent-hash set, outbox. ARGV: presented hash, new hash, now (ms), idle (ms), grace (ms),
 * outbox TTL (ms), then the reuse facts as outbox field/value pairs (may be none).
 * Returns `{ outcome, ...HGETALL }` with outcome `rotated` (the caller won), `grace` (the immediately
 * previous token, inside the grace window: another request just won), `reused` (a spent token: the family
 * is deleted and the facts written to the outbox, together), `reuse_detected` (a spent token, but no facts
 * were given: nothing changed, call again with the facts built from the returned record), `expired`,
 * `missing` (revoked, expired or never existed) or `unknown` (not a token of this family: refused without
 * revoking, so a guessed token cannot sign a user out).
 */
export const ROTATE_REFRESH_TOKEN = `
local session = KEYS[1]
local spent = KEYS[2]
if redis.call('EXISTS', session) == 0 then return {'missing'} end
local f = redis.call('HMGET', session, 'currentHash', 'previousHash', 'rotatedAt', 'idleExpiresAt', 'absoluteExpiresAt')
local now = tonumber(ARGV[3])
if tonumber(f[4]) <= now or tonumber(f[5]) <= now then
  redis.call('DEL', session, spent)
  return {'expired'}
end
if f[1] == ARGV[1] then
  local idle = math.min(now + tonumber(ARGV[4]), tonumber(f[5]))
  redis.call('SADD', spent, ARGV[1])
  redis.call('HSET', session, 'currentHash', ARGV[2], 'previousHash', ARGV[1], 'rotatedAt', now,
    'idleExpiresAt', idle, 'lastRefreshedAt', now)
  redis.call('HDEL', session, 'graceResult')
  redis.call('HINCRBY', session, 'generation', 1)
  redis.call('PEXPIREAT', session, idle)
  redis.call('PEXPIREAT', spent, idle)
  local out = redis.call('HGETALL', session)
  table.insert(out, 1, 'rotated')
  return out
end
if f[2] == ARGV[1] and now - tonumber(f[3]) <= tonumber(ARGV[5]) then return {'grace'} end
if redis.call('SISMEMBER', spent, ARGV[1]) == 1 then
  local out = redis.call('HGETALL', session)
  -- The family is revoked only together with its facts (the security alert): never one without the other.
  if #ARGV < 8 then
    table.insert(out, 1, 'reuse_detected')
    return out
  end
  redis.call('DEL', session, spent)
  redis.call('HSET', KEYS[3], unpack(ARGV, 7))
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  table.insert(out, 1, 'reused')
  return out
end
return {'unknown'}
`

/**
 * Stores the winner's sealed response for a grace-window loser, only if the session still exists and
 * has not rotated again (HSET on a missing key would resurrect a revoked session).
 * KEYS: session hash. ARGV: the new current hash, the sealed result.
 */
export const SAVE_GRACE_RESULT = `
if redis.call('HGET', KEYS[1], 'currentHash') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'graceResult', ARGV[2])
  return 1
end
return 0
`

/**
 * Deletes a session and returns what it held (empty when it was already gone); when it was there, writes the
 * given facts to its outbox in the same step. KEYS: session, spent set, outbox. ARGV: outbox TTL (ms), then
 * the facts as outbox field/value pairs (may be none).
 */
export const REVOKE_SESSION = `
local out = redis.call('HGETALL', KEYS[1])
if #out == 0 then return out end
redis.call('DEL', KEYS[1], KEYS[2])
if #ARGV > 1 then
  redis.call('HSET', KEYS[3], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[3], ARGV[1])
end
return out
`
