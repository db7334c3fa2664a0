/**
 * Consumer heartbeats: each running consumer keeps a key with a short TTL alive, so the others can tell a
 * dead consumer (SIGKILLed, its machine gone) from a busy one and take its pending entries at once instead of
 * waiting `claimIdleMs` for them. A restarted process joins under a new name (docs/pitfalls.md: names are never
 * shared), so without this its predecessor's entries would wait the full claim idle time.
 */
import { pairsToRecord } from './replies.ts'
import type { Runtime } from './runtime.ts'

/**
 * The heartbeat key of one consumer. The hash tag `{<stream>}` keeps it in the stream's Redis Cluster slot.
 * @example heartbeatKey('events', 'audit', 'vm-1-ab12') // '{events}:alive:audit:vm-1-ab12'
 */
export const heartbeatKey = (stream: string, group: string, consumer: string): string =>
  `{${stream}}:alive:${group}:${consumer}`

/**
 * Keeps this consumer's heartbeat key alive; `stop()` deletes it (others may take what it left at once).
 * `mayJudgeOthers()` is false while this consumer's own beats are not getting through, and for one TTL after a
 * gap longer than the TTL between two of them (Redis paused or unreachable, this process stalled): every key may
 * have lapsed meanwhile, the others' included, and they need a TTL to beat again before anyone is called dead.
 */
export const createHeartbeat = (
  rt: Pick<Runtime, 'stream' | 'group' | 'name' | 'logger' | 'command'>,
  ttlMs: number,
) => {
  const key = heartbeatKey(rt.stream, rt.group, rt.name)
  let timer: ReturnType<typeof setInterval> | undefined
  let lastBeat = 0
  let judgeFrom = 0
  const beat = async () => {
    await rt.command().set(key, String(process.pid), 'PX', ttlMs)
    const now = Date.now()
    if (lastBeat !== 0 && now - lastBeat > ttlMs) judgeFrom = now + ttlMs
    lastBeat = now
  }
  return {
    /** Writes the first beat (before the consumer reads anything), then one every `ttlMs / 5`. */
    async start() {
      await beat()
      timer = setInterval(
        () => {
          beat().catch((error) =>
            rt.logger.debug({ err: error, consumer: rt.name }, 'heartbeat failed; retrying'),
          )
        },
        Math.max(10, Math.floor(ttlMs / 5)),
      )
      // A heartbeat alone never keeps the process alive.
      timer.unref?.()
    },
    mayJudgeOthers(now = Date.now()): boolean {
      return lastBeat !== 0 && now - lastBeat <= ttlMs && now >= judgeFrom
    },
    async stop() {
      clearInterval(timer)
      timer = undefined
      await rt
        .command()
        .del(key)
        .catch(() => 0)
    },
  }
}

/**
 * Other consumers of the group that own pending entries and are provably gone: no heartbeat key, and silent
 * (XINFO CONSUMERS `idle`) for at least the heartbeat TTL. The second condition keeps a live consumer that does
 * not beat (an older version during a rolling deploy, one that just joined) from being taken for dead while it
 * keeps reading; a SIGKILLed consumer meets both about `ttlMs` after its last beat.
 */
export const deadConsumers = async (rt: Runtime, ttlMs: number): Promise<Set<string>> => {
  if (!rt.mayJudgeOthers()) return new Set()
  const reply = await rt.command().xinfo('CONSUMERS', rt.stream, rt.group)
  const silent = (Array.isArray(reply) ? reply : [])
    .map(pairsToRecord)
    .filter((c) => c.name !== rt.name && Number(c.pending) > 0 && Number(c.idle) >= ttlMs)
    .map((c) => String(c.name))
  if (silent.length === 0) return new Set()
  const pipeline = rt.command().pipeline()
  for (const name of silent) pipeline.exists(heartbeatKey(rt.stream, rt.group, name))
  const results = (await pipeline.exec()) ?? []
  const dead = new Set<string>()
  silent.forEach((name, i) => {
    const [error, exists] = results[i] ?? [null, 1]
    if (error) throw error
    if (Number(exists) === 0) dead.add(name)
  })
  return dead
}
