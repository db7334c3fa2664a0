/**
 * Scheduled jobs that run once per time slot across every instance of a service. A Redis lock (SET NX PX with a
 * random token, extended and released only while the token still matches) keeps two instances from running a
 * job at once; a per-slot claim key keeps a slot from running again after the lock is freed. Jobs must be
 * idempotent: a Redis restart without persistence forgets the claims, so a slot may run twice then.
 */
import type { RedisClient } from '@flotilla/streams'

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

/** One scheduled job of a service declaration (it reports its own outcome: metrics, logs). */
export interface Job {
  /** kebab-case, stable: part of the lock and claim keys. */
  readonly name: string
  /** One run per slot of this length (slots are aligned to the epoch, so every instance agrees). */
  readonly everyMs: number
  /** Lock lifetime, extended every third of it while the job runs. @defaultValue 60000 */
  readonly lockTtlMs?: number
  /** What it resolves to is kept as the outcome's `result`. */
  run(): Promise<unknown>
}

export type JobOutcome =
  | { readonly job: string; readonly slot: number; readonly status: 'ran'; readonly result: unknown }
  | { readonly job: string; readonly slot: number; readonly status: 'locked' | 'done' }
  | { readonly job: string; readonly slot: number; readonly status: 'failed'; readonly error: string }

export interface SchedulerLogger {
  info(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

export interface SchedulerOptions {
  readonly redis: RedisClient
  /** Key prefix: `<prefix>jobs:<job>:lock` and `<prefix>jobs:<job>:slot:<n>`. */
  readonly keyPrefix: string
  /** This instance, stored in the slot claim. */
  readonly instance: string
  readonly jobs: readonly Job[]
  /** How often `start()` looks for due jobs. @defaultValue 5000 */
  readonly tickMs?: number
  readonly logger?: SchedulerLogger
  /** Called with every outcome (metrics). Must not throw. */
  readonly onOutcome?: (outcome: JobOutcome) => void
}

export interface Scheduler {
  /** Runs every job whose slot at `now` has not run yet (tests drive slots with `now`). */
  tick(now?: number): Promise<JobOutcome[]>
  /** Ticks every `tickMs`; a tick still running is never overlapped. */
  start(): void
  /** The last outcome of each job on this instance. */
  status(): JobOutcome[]
  /** Stops ticking and waits for a running tick. Safe to call twice. */
  close(): Promise<void>
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** Creates the scheduler; nothing runs until `start()` or `tick()`. */
export const createScheduler = (o: SchedulerOptions): Scheduler => {
  let timer: ReturnType<typeof setInterval> | undefined
  let ticking: Promise<JobOutcome[]> | undefined
  let closing: Promise<void> | undefined
  const last = new Map<string, JobOutcome>()

  const runJob = async (job: Job, now: number): Promise<JobOutcome> => {
    const slot = Math.floor(now / job.everyMs)
    const lockKey = `${o.keyPrefix}jobs:${job.name}:lock`
    const lockTtlMs = job.lockTtlMs ?? 60_000
    const token = crypto.randomUUID()
    if ((await o.redis.set(lockKey, token, 'PX', lockTtlMs, 'NX')) !== 'OK')
      return { job: job.name, slot, status: 'locked' }
    const keepAlive = setInterval(
      () => void o.redis.eval(EXTEND, 1, lockKey, token, String(lockTtlMs)).catch(() => {}),
      Math.max(50, Math.floor(lockTtlMs / 3)),
    )
    try {
      // The claim outlives the slot by one more slot, so a late instance still sees it was taken.
      const claimKey = `${o.keyPrefix}jobs:${job.name}:slot:${slot}`
      const claimed = await o.redis.set(claimKey, o.instance, 'PX', job.everyMs * 2 + 60_000, 'NX')
      if (claimed !== 'OK') return { job: job.name, slot, status: 'done' }
      try {
        const result = await job.run()
        return { job: job.name, slot, status: 'ran', result }
      } catch (error) {
        o.logger?.error({ job: job.name, slot, err: error }, 'job failed')
        return { job: job.name, slot, status: 'failed', error: messageOf(error) }
      }
    } finally {
      clearInterval(keepAlive)
      await o.redis.eval(RELEASE, 1, lockKey, token).catch(() => 0)
    }
  }

  const tick = async (now = Date.now()): Promise<JobOutcome[]> => {
    const outcomes: JobOutcome[] = []
    for (const job of o.jobs) {
      const outcome = await runJob(job, now).catch(
        (error): JobOutcome => ({
          job: job.name,
          slot: Math.floor(now / job.everyMs),
          status: 'failed',
          error: messageOf(error),
        }),
      )
      last.set(job.name, outcome)
      o.onOutcome?.(outcome)
      outcomes.push(outcome)
    }
    return outcomes
  }

  return {
    tick,
    start() {
      if (timer || closing || o.jobs.length === 0) return
      timer = setInterval(() => {
        if (ticking) return
        ticking = tick().finally(() => {
          ticking = undefined
        })
      }, o.tickMs ?? 5000)
    },
    status: () => [...last.values()],
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer)
        timer = undefined
        await ticking?.catch(() => {})
      })()
      return closing
    },
  }
}
