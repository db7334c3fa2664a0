/**
 * Safe trimming. Before Redis 8.2 trimming ignores consumer groups (docs/pitfalls.md), so the MINID is the oldest
 * of: now − retention, every group's oldest pending id, every group's last-delivered id. Nothing pending or
 * not yet delivered to some group is ever removed.
 */
import type { RedisClient } from './connection.ts'
import { parsePending } from './consumer/replies.ts'
import { readGroupInfo } from './group-stats.ts'
import { minStreamId, streamIdAt } from './ids.ts'

export interface TrimOptions {
  readonly redis: RedisClient
  readonly stream: string
  /** Keep entries younger than this. */
  readonly retentionMs: number
  /** @defaultValue Date.now() */
  readonly now?: number
}

export interface TrimResult {
  /** Entries removed. */
  readonly trimmed: number
  /** The MINID used: every entry older than it was removed. */
  readonly minId: string
}

/** The oldest id any group still needs (its oldest pending entry, else the entry after its last delivery). */
const groupFloors = async (redis: RedisClient, stream: string): Promise<string[]> => {
  const groups = await readGroupInfo(redis, stream)
  const floors: string[] = []
  for (const g of groups) {
    floors.push(String(g['last-delivered-id'] ?? '0-0'))
    if (Number(g.pending ?? 0) > 0) {
      const oldest = parsePending(await redis.xpending(stream, String(g.name), '-', '+', 1))[0]
      if (oldest) floors.push(oldest.id)
    }
  }
  return floors
}

/** Trims one stream by MINID, never past what a group still needs. */
export const trimStream = async ({
  redis,
  stream,
  retentionMs,
  now = Date.now(),
}: TrimOptions): Promise<TrimResult> => {
  const floors = await groupFloors(redis, stream)
  const minId = minStreamId(streamIdAt(now - retentionMs), ...floors)
  const trimmed = minId === '0-0' ? 0 : await redis.xtrim(stream, 'MINID', minId)
  return { trimmed, minId }
}

export interface Trimmer {
  /** Runs one trim now. */
  runOnce(): Promise<TrimResult>
  /** Stops the timer and waits for a running trim. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Trims a stream every `intervalMs` (the first run after one interval).
 * @example const trimmer = createTrimmer({ redis, stream: 'events', retentionMs: 7 * 86_400_000, intervalMs: 60_000 })
 */
export const createTrimmer = (
  options: TrimOptions & {
    intervalMs: number
    onTrimmed?: (result: TrimResult) => void
    onError?: (e: unknown) => void
  },
): Trimmer => {
  let running: Promise<unknown> = Promise.resolve()
  const runOnce = () => {
    const run = trimStream({ ...options, now: Date.now() })
    running = run.catch(() => {})
    return run
  }
  const timer = setInterval(() => {
    runOnce().then(options.onTrimmed, options.onError ?? (() => {}))
  }, options.intervalMs)
  timer.unref?.()
  let closed: Promise<void> | undefined
  return {
    runOnce,
    close() {
      closed ??= (async () => {
        clearInterval(timer)
        await running
      })()
      return closed
    },
  }
}
