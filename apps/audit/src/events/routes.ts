/** GET /v1/audit/events — search audit records, newest first, with an opaque cursor. */
import { type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { Elysia } from 'elysia'
import { ERRORS, ErrorBody, READ_ERRORS } from '../errors.ts'
import type { AuditStore } from '../store/types.ts'
import { EventPage, eventCursor, ListQuery, toFilter } from './model.ts'

export interface EventsRoutesDeps {
  readonly store: AuditStore
  readonly auth: CallerAuthOptions
}

export const eventsRoutes = ({ store, auth }: EventsRoutesDeps) =>
  new Elysia().use(callerAuth(auth)).get(
    '/v1/audit/events',
    async ({ caller, query }): Promise<EventPage> => {
      const filter = toFilter(query, tenantScope(caller, query.tenantId))
      const after = eventCursor.decodeOptional(query.cursor)
      const page = await store.list(filter, { limit: query.limit ?? 50, ...(after ? { after } : {}) })
      return { items: page.records, nextCursor: page.next ? eventCursor.encode(page.next) : null }
    },
    {
      query: ListQuery,
      response: {
        200: EventPage,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        404: ErrorBody,
      },
      detail: {
        summary: 'Search audit records',
        description: ERRORS.describe(
          'Newest first (occurredAt, then event id). Services read every tenant; a user token with `audit:read` reads its own tenant only (another tenant answers 404).',
          'INVALID_CURSOR',
          'INVALID_TIME',
          'INVALID_RANGE',
          ...READ_ERRORS,
        ),
        tags: ['audit'],
        security: [{ bearer: [] }],
      },
    },
  )
