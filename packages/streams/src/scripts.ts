/** Lua scripts run with EVALSHA (falling back to EVAL once), each touching one hash slot only. */
import { createHash } from 'node:crypto'
import type { RedisClient } from './connection.ts'

/** A Lua script and its SHA-1. */
export interface LuaScript {
  readonly source: string
  readonly sha: string
}

const script = (source: string): LuaScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
})

/** Runs a script by SHA; loads it with EVAL when the server does not know it yet (a restart, a new node). */
export const runScript = async (
  redis: RedisClient,
  lua: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> => {
  try {
    return await redis.evalsha(lua.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return redis.eval(lua.source, keys.length, ...keys, ...args)
  }
}

/**
 * Acks only the ids this consumer still owns. XACK itself does not check ownership (docs/pitfalls.md: a consumer
 * paused past the claim idle time would ack an entry another consumer has since claimed — a "zombie ack").
 * KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] lowest id, ARGV[4] highest id, ARGV[5..] ids.
 * First the group's XPENDING summary (its owners and their counts; O(consumers)): when this consumer is the only
 * one with anything pending, every given id is either its own or no longer pending, so a bare XACK is exactly
 * the owner-checked ack (~0.4 µs/id of Redis time instead of ~1.5–2). Otherwise one XPENDING range read of
 * this consumer's own entries between the lowest and highest id settles a usual batch (a per-id XPENDING costs
 * ~3 µs of Lua each); ids it does not show as ours (taken by another consumer, no longer pending, or past a
 * range cut short by other own entries) are looked up one by one, so the range is only a shortcut: a wrong
 * range costs time, never correctness.
 * Returns { acked count, ids owned by another consumer (refused) }. Ids no longer pending are ignored.
 */
export const ACK_OWNED = script(`
local group, consumer = ARGV[1], ARGV[2]
local owners = redis.call('XPENDING', KEYS[1], group)[4]
if not owners then return { 0, {} } end
if #owners == 1 and owners[1][1] == consumer then
  return { redis.call('XACK', KEYS[1], group, unpack(ARGV, 5)), {} }
end
local mine = {}
for _, row in ipairs(redis.call('XPENDING', KEYS[1], group, ARGV[3], ARGV[4], #ARGV - 4, consumer)) do
  mine[row[1]] = true
end
local owned, refused = {}, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  if mine[id] then
    owned[#owned + 1] = id
  else
    local entry = redis.call('XPENDING', KEYS[1], group, id, id, 1)[1]
    if entry then
      if entry[2] == consumer then owned[#owned + 1] = id else refused[#refused + 1] = id end
    end
  end
end
local acked = 0
if #owned > 0 then acked = redis.call('XACK', KEYS[1], group, unpack(owned)) end
return { acked, refused }
`)

/**
 * Moves one entry to the dead-letter stream only while this consumer still owns it: XADD there and XACK here
 * together (both keys share the `{stream}` slot). A consumer paused past the claim time must not dead-letter an
 * entry another consumer has taken (and may yet handle), nor one no longer pending (handled elsewhere).
 * KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] id, ARGV[4..] the dead
 * letter's field-value pairs. Returns 1 when moved, 0 when no longer pending, -1 when another consumer owns it.
 */
export const DEAD_LETTER_OWNED = script(`
local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
if not entry then return 0 end
if entry[2] ~= ARGV[2] then return -1 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

/**
 * Deletes a consumer only when it has nothing pending (docs/pitfalls.md: DELCONSUMER drops pending entries).
 * KEYS[1] stream; ARGV[1] group, ARGV[2] consumer. Returns 1 when deleted, 0 when it still owns entries.
 */
export const DELETE_IDLE_CONSUMER = script(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

/**
 * Replays one dead letter: re-publishes its original \`type\` + \`event\` on the main stream, marked
 * \`replayFor\` (only that group takes it) and \`replayOf\`, and deletes it from the dead-letter stream —
 * atomically, and only if it is still there (two operators replaying at once publish it once).
 * KEYS[1] dead-letter stream, KEYS[2] main stream (same hash slot); ARGV[1] dead-letter id, ARGV[2] group.
 * Returns the new stream id, or false when the dead letter does not exist.
 */
export const REPLAY_DEAD_LETTER = script(`
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return false end
local fields = {}
for i = 1, #entry[2], 2 do fields[entry[2][i]] = entry[2][i + 1] end
local id = redis.call('XADD', KEYS[2], '*', 'type', fields['type'] or '', 'event', fields['event'] or '',
  'replayFor', ARGV[2], 'replayOf', fields['originalId'] or ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return id
`)
