/** Retry delays: exponential, fully jittered, capped — stable per entry so every consumer agrees. */

/** How long a failed entry waits before it is delivered again. */
export interface BackoffOptions {
  /** The ceiling of the first retry's delay. @defaultValue 1000 */
  readonly baseMs: number
  /** No delay is ever longer than this. @defaultValue 60000 */
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 60_000 }

/** The upper bound of the delay after `attempt` failed deliveries (1 → baseMs, 2 → 2·baseMs, …, capped). */
export const backoffCeiling = (attempt: number, { baseMs, maxMs }: BackoffOptions): number =>
  Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)))

// FNV-1a: a cheap, well-spread hash; enough to turn (entry id, attempt) into a uniform number in [0, 1).
const unitHash = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  // One extra avalanche round so neighbouring ids do not get neighbouring delays.
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  return (hash >>> 0) / 2 ** 32
}

/**
 * Full-jitter delay (AWS "exponential backoff and jitter") for one entry after `attempt` deliveries.
 * The jitter is derived from the entry id, so the delay is random across entries (no thundering herd)
 * yet the same on every consumer and every reclaim pass (a pass cannot re-roll it shorter).
 */
export const retryDelayFor = (streamId: string, attempt: number, options: BackoffOptions): number =>
  Math.floor(unitHash(`${streamId}#${attempt}`) * backoffCeiling(attempt, options))
