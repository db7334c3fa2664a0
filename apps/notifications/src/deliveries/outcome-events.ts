/** Publishing `notification.sent` / `notification.failed` with ids derived from the delivery, so a retry republishes the same event. */
import { createEvent } from '@flotilla/contracts'
import type { Publisher } from '@flotilla/streams'
import type { DeliveryRow } from '../db/schema.ts'
import { derivedId } from '../ids.ts'
import type { ChannelName } from '../templates/model.ts'

/** What this service needs from a publisher (the streams publisher). */
export type EventSink = Pick<Publisher, 'publish'> & Partial<Pick<Publisher, 'publishBatch'>>

const SOURCE = 'notifications'

const envelopeOf = (row: DeliveryRow, id: string) => ({
  source: SOURCE,
  id,
  causationId: row.eventId,
  ...(row.correlationId ? { correlationId: row.correlationId } : {}),
  ...(row.tenantId ? { tenantId: row.tenantId } : {}),
  ...(row.traceparent ? { traceparent: row.traceparent } : {}),
  subject: { type: 'user', id: row.userId },
})

const ref = (row: DeliveryRow) => ({
  notificationId: row.id,
  userId: row.userId,
  channel: row.channel as ChannelName,
  template: row.template,
})

/** The outcome event a settled delivery owes, with its marker for `published_status`; undefined when none. */
export const outcomeEventOf = (row: DeliveryRow) => {
  if (['sent', 'delivered', 'bounced', 'complained'].includes(row.status)) {
    const event = createEvent(
      'notification.sent',
      {
        ...ref(row),
        requestId: row.eventId,
        provider: row.provider ?? 'unknown',
        ...(row.providerMessageId ? { providerMessageId: row.providerMessageId } : {}),
      },
      envelopeOf(row, derivedId(`notification.sent|${row.id}`)),
    )
    return { marker: 'sent', event }
  }
  if (row.status === 'failed' || row.status === 'dead') {
    // A revived (replayed) delivery can fail again later: one failure event per attempt count.
    const marker = `failed:${row.attempts}`
    const event = createEvent(
      'notification.failed',
      {
        ...ref(row),
        requestId: row.eventId,
        attempts: Math.max(1, row.attempts),
        error: { code: row.errorCode ?? 'UNKNOWN', message: (row.errorMessage ?? '').slice(0, 2000) },
      },
      envelopeOf(row, derivedId(`notification.failed|${row.id}|${row.attempts}`)),
    )
    return { marker, event }
  }
  return undefined
}

/** A provider reported the delivery reached the recipient, bounced, or was marked as spam. */
export const providerEventOf = (
  row: DeliveryRow,
  kind: 'delivered' | 'bounced' | 'complained',
  at: Date,
  receiptId: string,
  reason?: string,
) => {
  const id = derivedId(`notification.${kind}|${row.id}|${receiptId}`)
  const base = { ...ref(row), providerMessageId: row.providerMessageId ?? '', at: at.toISOString() }
  return kind === 'delivered'
    ? createEvent('notification.delivered', base, envelopeOf(row, id))
    : createEvent(
        'notification.bounced',
        { ...base, kind, ...(reason ? { reason: reason.slice(0, 2000) } : {}) },
        envelopeOf(row, id),
      )
}
