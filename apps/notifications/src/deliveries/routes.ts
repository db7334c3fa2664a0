/** Notification status routes: the delivery log, filtered and paginated, and one delivery with its attempts. Service token. */
import { AppError, notFound, type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { rowCursor } from '../db/page.ts'
import type { AttemptRow, DeliveryRow } from '../db/schema.ts'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import {
  CancelBody,
  CancelResult,
  DeliveryDetail,
  DeliveryPage,
  DeliveryQuery,
  type DeliveryStatus,
  type DeliveryView,
} from './model.ts'
import type { DeliveryStore } from './store.ts'

export interface DeliveryRouteDeps {
  readonly deliveries: DeliveryStore
  readonly verifier: ServiceVerifier
  /** Cancels what a request has not sent yet (the store's cancel, counted). */
  readonly cancel: (requestKey: string) => Promise<{ cancelled: DeliveryRow[]; all: DeliveryRow[] }>
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** The public view of a row (never the rendered content or the full push keys). */
const toView = (row: DeliveryRow): DeliveryView => ({
  id: row.id,
  requestId: row.eventId,
  eventType: row.eventType,
  userId: row.userId,
  tenantId: row.tenantId,
  channel: row.channel as DeliveryView['channel'],
  recipient: row.recipient,
  template: row.template,
  locale: row.locale,
  category: row.category,
  critical: row.critical,
  status: row.status as DeliveryStatus,
  attempts: row.attempts,
  provider: row.provider,
  dueAt: iso(row.dueAt),
  idempotencyKey: row.requestKey,
  digestId: row.digestId,
  failedOver: row.failedOver,
  providerMessageId: row.providerMessageId,
  error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
  createdAt: new Date(row.createdAt).toISOString(),
  updatedAt: new Date(row.updatedAt).toISOString(),
  sentAt: iso(row.sentAt),
  deliveredAt: iso(row.deliveredAt),
})

const attemptView = (a: AttemptRow) => ({
  attempt: a.attempt,
  startedAt: new Date(a.startedAt).toISOString(),
  finishedAt: iso(a.finishedAt),
  outcome: a.outcome,
  provider: a.provider,
  error: a.errorCode ? { code: a.errorCode, message: a.errorMessage ?? '' } : null,
})

export const deliveryRoutes = ({ deliveries, verifier, cancel }: DeliveryRouteDeps) =>
  new Elysia({ name: 'notifications/deliveries' })
    .use(serviceAuth({ verifier }))
    .get(
      '/v1/notifications',
      async ({ query }) => {
        const { cursor, ...filters } = query
        const page = await deliveries.list({ ...filters, after: rowCursor.decodeOptional(cursor) })
        return { items: page.items.map(toView), nextCursor: page.next && rowCursor.encode(page.next) }
      },
      {
        query: DeliveryQuery,
        response: { 200: DeliveryPage, 400: ErrorBody, 401: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['notifications'],
          summary: 'List deliveries, newest first (filter by user and status; cursor pagination)',
          description: errorList('INVALID_CURSOR', 'INVALID_TOKEN', 'VALIDATION_FAILED'),
          security: SERVICE_TOKEN,
        },
      },
    )
    .get(
      '/v1/notifications/:id',
      async ({ params }) => {
        const row = await deliveries.get(params.id)
        if (!row) throw notFound('no such notification')
        return { ...toView(row), attemptLog: (await deliveries.attempts(row.id)).map(attemptView) }
      },
      {
        params: t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: DeliveryDetail, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['notifications'],
          summary: 'One delivery with every attempt and its error',
          description: errorList('INVALID_TOKEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
          security: SERVICE_TOKEN,
        },
      },
    )
    .post(
      '/v1/notifications/cancel',
      async ({ body }) => {
        const { cancelled, all } = await cancel(body.idempotencyKey)
        if (all.length === 0) throw notFound('no notification was requested with this idempotency key')
        if (cancelled.length === 0)
          throw new AppError(
            409,
            'NOT_CANCELLABLE',
            'every delivery of this request is already sent or settled',
            {
              details: { deliveries: all.map((row) => ({ id: row.id, status: row.status })) },
            },
          )
        return {
          idempotencyKey: body.idempotencyKey,
          cancelled: cancelled.length,
          deliveries: all.map(toView),
        }
      },
      {
        body: CancelBody,
        response: { 200: CancelResult, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        detail: {
          tags: ['notifications'],
          summary: 'Cancel what a request has not sent yet, by its idempotency key',
          description: `Scheduled and held deliveries, deliveries queued by the due-time poller and never tried, and those collected for a digest whose window is still open become \`cancelled\`; what is already sent or settled stays as it is. A delivery of the request recorded after the cancel (a channel not yet recorded, a redelivery) is recorded \`cancelled\` too, even after a 409; a 404 (no delivery recorded under the key) remembers nothing. The key is the request's \`idempotencyKey\`, or its event id when it had none.${errorList('INVALID_TOKEN', 'NOT_FOUND', 'NOT_CANCELLABLE', 'VALIDATION_FAILED', 'MALFORMED_JSON')}`,
          security: SERVICE_TOKEN,
        },
      },
    )
