/**
 * Scheduled jobs that run once per time slot across every analytics instance: the Redis lock keeps two
 * instances from running a job at the same time, and a `job_runs` row per (job, slot) keeps a slot from
 * running again after the lock is freed.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { Redis } from 'ioredis'
import type { Db } from '../db/client.ts'
import { jobRuns } from '../db/schema.ts'
import { createLock } from './lock.ts'

export interface Job {
  /** kebab-case, stable: part of the lock key and of `job_runs`. */
  readonly name: string
  readonly intervalMs: number
  run(): Promise<unknown>
}

export type JobOutcome =
  | { readonly job: string; readonly slot: number; readonly status: 'ran'; readonly result: unknown }
  | { readonly job: string; readonly slot: number; readonly status: 'locked' | 'done' }
  | { readonly job: string; readonly slot: number; readonly status: 'failed'; readonly error: string }

export interface JobLogger {
  info(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

export interface SchedulerOptions {
  readonly redis: Redis
  readonly db: Db
  /** Redis key prefix (`<prefix>:lock:<job>`). */
  readonly prefix: string
  /** This instance, recorded with each run. */
  readonly instance: string
  readonly jobs: readonly Job[]
  /** Lock TTL; extended every third of it while a job runs. @defaultValue 30000 */
  readonly lockTtlMs?: number
  /** How often `start()` ticks. @defaultValue 5000 */
  readonly tickMs?: number
  readonly logger?: JobLogger
  /** Called with every outcome (metrics). */
  readonly onOutcome?: (outcome: JobOutcome) => void
}

/** Creates the scheduler; `tick()` is public so tests drive slots without timers. */
export const createScheduler = (o: SchedulerOptions) => {
  const lockTtlMs = o.lockTtlMs ?? 30_000
  let timer: ReturnType<typeof setInterval> | undefined
  let ticking: Promise<JobOutcome[]> | undefined
  let closing: Promise<void> | undefined
  const last = new Map<string, JobOutcome>()

  const runJob = async (job: Job, now: number): Promise<JobOutcome> => {
    const slot = Math.floor(now / job.intervalMs)
    const lock = createLock(o.redis, `${o.prefix}:lock:${job.name}`, lockTtlMs)
    const token = await lock.acquire()
    if (!token) return { job: job.name, slot, status: 'locked' }
    const keepAlive = setInterval(() => void lock.extend(token).catch(() => {}), Math.max(100, lockTtlMs / 3))
    try {
      const claimed = await o.db
        .insert(jobRuns)
        .values({ job: job.name, slot, instance: o.instance, startedAt: Date.now() })
        .onConflictDoNothing()
        .returning({ slot: jobRuns.slot })
      if (claimed.length === 0) return { job: job.name, slot, status: 'done' }
      const where = and(eq(jobRuns.job, job.name), eq(jobRuns.slot, slot))
      try {
        const result = await job.run()
        await o.db
          .update(jobRuns)
          .set({ finishedAt: Date.now(), result: JSON.stringify(result ?? null) })
          .where(where)
        o.logger?.info({ job: job.name, slot, result }, 'job ran')
        return { job: job.name, slot, status: 'ran', result }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        await o.db
          .update(jobRuns)
          .set({ finishedAt: Date.now(), result: JSON.stringify({ error: message }) })
          .where(where)
        o.logger?.error({ job: job.name, slot, err: message }, 'job failed')
        return { job: job.name, slot, status: 'failed', error: message }
      }
    } finally {
      clearInterval(keepAlive)
      await lock.release(token).catch(() => false)
    }
  }

  const tick = async (now = Date.now()): Promise<JobOutcome[]> => {
    const outcomes: JobOutcome[] = []
    for (const job of o.jobs) {
      const outcome = await runJob(job, now).catch(
        (error): JobOutcome => ({
          job: job.name,
          slot: Math.floor(now / job.intervalMs),
          status: 'failed',
          error: error instanceof Error ? error.message : String(error),
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
    /** Ticks every `tickMs` (a tick still running is never overlapped). */
    start() {
      if (timer || closing) return
      timer = setInterval(() => {
        if (ticking) return
        ticking = tick().finally(() => {
          ticking = undefined
        })
      }, o.tickMs ?? 5000)
    },
    /** The last outcome of each job on this instance. */
    status: (): JobOutcome[] => [...last.values()],
    /** Recent runs of every job on any instance, newest first. */
    recentRuns: (limit = 20) => o.db.select().from(jobRuns).orderBy(sql`started_at DESC`).limit(limit),
    /** Stops ticking and waits for a running tick. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        if (timer) clearInterval(timer)
        timer = undefined
        await ticking?.catch(() => {})
      })()
      return closing
    },
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
