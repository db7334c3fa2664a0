/** Runs a periodic job under a Redis lock, so one instance runs it per tick however many are up. */
import type Redis from 'ioredis'
import { withLock } from './lock.ts'

export interface JobLogger {
  info(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

export interface PeriodicJobOptions<T> {
  readonly name: string
  readonly everyMs: number
  readonly redis: Redis
  readonly lockKey: string
  /** Lock lifetime; renewed while the job runs. @defaultValue 60000 */
  readonly lockTtlMs?: number
  readonly run: () => Promise<T>
  readonly logger: JobLogger
  /** Told what each run produced (when this instance held the lock). */
  readonly onRun?: (result: T) => void
}

export interface PeriodicJob {
  /** Runs once now (under the lock) and returns whether this instance ran it. */
  runNow(): Promise<boolean>
  /** Stops the timer and waits for a run in progress. Safe to call twice. */
  stop(): Promise<void>
}

/** Starts the job: first run after one interval, then every interval (never two runs at once). */
export const startPeriodicJob = <T>(o: PeriodicJobOptions<T>): PeriodicJob => {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<boolean> = Promise.resolve(false)
  let stopped = false
  const runNow = (): Promise<boolean> => {
    running = running.then(async () => {
      try {
        const outcome = await withLock(o.redis, o.lockKey, o.lockTtlMs ?? 60_000, o.run)
        if (outcome.ran) o.onRun?.(outcome.value)
        return outcome.ran
      } catch (error) {
        o.logger.error({ err: error, job: o.name }, 'periodic job failed')
        return false
      }
    })
    return running
  }
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(async () => {
      await runNow()
      schedule()
    }, o.everyMs)
  }
  if (o.everyMs > 0) schedule()
  return {
    runNow,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
