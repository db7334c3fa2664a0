/**
 * When a request asked to be sent: `sendAt` or `delaySeconds` after the event occurred, bounded to 30 days
 * after it. Counted from the event, not from when it is handled, so every redelivery computes the same time.
 */
import { NonRetryableError } from '@flotilla/streams'
import type { NotificationRequest } from '../dispatch/model.ts'

/** The furthest a request may be scheduled after its event. */
const MAX_SCHEDULE_MS = 30 * 24 * 3600 * 1000

/**
 * The time a request is due (ms since the epoch), or undefined when it asked for none. Throws
 * `NonRetryableError` (`SCHEDULE_INVALID`, `SCHEDULE_TOO_FAR`): the event is dead-lettered with the reason.
 */
export const dueTimeOf = (request: NotificationRequest): number | undefined => {
  const { sendAt, delaySeconds } = request
  if (sendAt === undefined && delaySeconds === undefined) return undefined
  if (sendAt !== undefined && delaySeconds !== undefined)
    throw new NonRetryableError('a request names sendAt or delaySeconds, not both', {
      code: 'SCHEDULE_INVALID',
    })
  const occurred = request.occurredAt ? Date.parse(request.occurredAt) : Number.NaN
  const base = Number.isNaN(occurred) ? Date.now() : occurred
  const due = sendAt === undefined ? base + (delaySeconds ?? 0) * 1000 : Date.parse(sendAt)
  if (Number.isNaN(due))
    throw new NonRetryableError(`sendAt "${sendAt}" is not a time`, { code: 'SCHEDULE_INVALID' })
  if (due - base > MAX_SCHEDULE_MS)
    throw new NonRetryableError('a request may be scheduled at most 30 days after its event', {
      code: 'SCHEDULE_TOO_FAR',
    })
  return due
}
