/**
 * The due-time poller: moves the deliveries that wait for a time (scheduled, held by quiet hours, digests, retries
 * of those) once their time has come. It runs as a kit job, so one instance at a time polls; each delivery is
 * still taken with a conditional update (`release`) and sent under the delivery service's lease, so two pollers
 * (or a poller and a crashed one's leftover) never send a delivery twice.
 */
import type { DeliveryService } from '../deliveries/service.ts'
import type { DeliveryStore } from '../deliveries/store.ts'

export interface DuePollerDeps {
  readonly store: DeliveryStore
  readonly service: DeliveryService
  /** Attempts before a poller-driven delivery is given up (`dead`), as the stream's `maxDeliveries`. */
  readonly maxAttempts: number
  /** First retry delay, doubled per attempt up to `retryMaxMs`. */
  readonly retryBaseMs: number
  readonly retryMaxMs: number
  /** Deliveries per run. @defaultValue 100 */
  readonly batch?: number
  /** Runs first (closing digest windows, whose digests it then sends). */
  readonly before?: (now: number) => Promise<number>
  /**
   * How long a delivery it settled may owe its outcome event before a run publishes it: a run publishes what
   * it settles at once, so this only catches a publish that failed. @defaultValue 30 000
   */
  readonly owedAfterMs?: number
}

export interface DuePoller {
  /** Moves every due delivery and publishes the outcome events still owed; resolves to how many it sent, settled or published. */
  run(now?: number): Promise<number>
}

export const createDuePoller = (deps: DuePollerDeps): DuePoller => ({
  async run(now = Date.now()) {
    const failures: string[] = []
    let moved = 0
    try {
      moved += (await deps.before?.(now)) ?? 0
    } catch (error) {
      failures.push((error as Error).message)
    }
    for (const row of await deps.store.due(now, deps.batch ?? 100)) {
      // One delivery failing (a database hiccup) does not hold up the others; the job reports it.
      try {
        if (row.status === 'scheduled' || row.status === 'held') {
          if (!(await deps.store.release(row.id, now))) continue
          row.status = 'queued'
        }
        const outcome = await deps.service.deliver(row, {
          lastDelivery: row.attempts + 1 >= deps.maxAttempts,
        })
        if (outcome.kind === 'retry') {
          const backoff = Math.min(deps.retryMaxMs, deps.retryBaseMs * 2 ** row.attempts)
          await deps.store.postpone(row.id, Date.now() + Math.max(outcome.delayMs ?? 0, backoff))
        } else moved++
      } catch (error) {
        failures.push(`${row.id}: ${(error as Error).message}`)
      }
    }
    // Outcome events a failed publish left owed (the stream's deliveries republish on redelivery; these have
    // no stream entry left to redeliver): the same event ids, so a consumer that saw one drops the copy. By the
    // clock rows are stamped with (not `now`, which a caller may set ahead to make deliveries due), so a row
    // another poller is settling and publishing right now is not taken.
    const settledBefore = Date.now() - (deps.owedAfterMs ?? 30_000)
    for (const row of await deps.store.owedOutcomes(settledBefore, deps.batch ?? 100)) {
      try {
        await deps.service.publishOutcome(row)
        moved++
      } catch (error) {
        failures.push(`${row.id}: ${(error as Error).message}`)
      }
    }
    if (failures.length > 0) throw new Error(`due-time poller: ${failures.join('; ')}`)
    return moved
  },
})
