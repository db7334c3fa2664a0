/**
 * Cancelling by idempotency key while another instance may be recording the request. The store cancels in one
 * statement and reads the request's rows in the next; on PostgreSQL each statement reads its own snapshot, so a
 * delivery committed between the two is missed by the first and listed, still waiting, by the second — the API
 * would answer 409 "nothing left to cancel" and the delivery would go out. Asking again until the read agrees
 * with the cancel closes that gap. The request lock the cancel and every recording now take on PostgreSQL
 * (`deliveries/cancel-marker.ts`) closes it for new deliveries already; the loop stays as a guard that costs
 * nothing when the read agrees (it repeats only while a cancellable delivery is left).
 */
import type { DeliveryRow } from '../db/schema.ts'

type CancelResult = { cancelled: DeliveryRow[]; all: DeliveryRow[] }

/** What the store's cancel takes: waiting, queued by the poller and never tried, or in an open digest. */
const isCancellable = (row: DeliveryRow) =>
  row.status === 'scheduled' ||
  row.status === 'held' ||
  (row.status === 'queued' && row.dueAt !== null && row.attempts === 0) ||
  (row.status === 'digested' && row.digestId === null)

/** Tries at most this many times: each retry needs a new delivery committed in the gap, which runs out. */
const MAX_TRIES = 5

/** The store's cancel, repeated while it cancelled nothing yet left a cancellable delivery behind. */
export const cancelWaiting =
  (cancel: (requestKey: string) => Promise<CancelResult>) =>
  async (requestKey: string): Promise<CancelResult> => {
    const cancelled: DeliveryRow[] = []
    for (let tries = 1; ; tries++) {
      const result = await cancel(requestKey)
      cancelled.push(...result.cancelled)
      if (!result.all.some(isCancellable) || tries === MAX_TRIES) return { cancelled, all: result.all }
    }
  }
