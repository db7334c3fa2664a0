/** Notification status routes: the delivery log, filtered and paginated, and one delivery with its attempts. Service token. */
import { notFound, type ServiceVerifier, serviceAuth } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { rowCursor } from '../db/page.ts'
import type { AttemptRow, DeliveryRow } from '../db/schema.ts'
import { ErrorBody, errorList, SERVICE_TOKEN } from '../errors.ts'
import {
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

export const deliveryRoutes = ({ deliveries, verifier }: DeliveryRouteDeps) =>
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
