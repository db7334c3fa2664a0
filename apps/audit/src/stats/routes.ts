/** GET /v1/audit/stats — record counts grouped by type, actor or source, for reporting. */
import { Elysia, t } from 'elysia'
import { type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { ErrorBody, ERRORS, READ_ERRORS } from '../errors.ts'
import { toFilter } from '../events/model.ts'
import type { AuditStore } from '../store/types.ts'

const StatsQuery = t.Object({
  groupBy: t.Union([t.Literal('type'), t.Literal('actor'), t.Literal('source')]),
  tenantId: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  from: t.Optional(t.String({ maxLength: 40, description: 'ISO-8601; occurredAt >= from' })),
  to: t.Optional(t.String({ maxLength: 40, description: 'ISO-8601; occurredAt < to' })),
})

const StatsResponse = t.Object({
  groupBy: t.String(),
  tenantId: t.Union([t.String(), t.Null()]),
  from: t.Union([t.String(), t.Null()]),
  to: t.Union([t.String(), t.Null()]),
  total: t.Integer(),
  groups: t.Array(
    t.Object({
      key: t.String({ description: 'type, source, or `actorType:actorId` (`(none)`)' }),
      count: t.Integer(),
    }),
  ),
})

export const statsRoutes = ({ store, auth }: { store: AuditStore; auth: CallerAuthOptions }) =>
  new Elysia().use(callerAuth(auth)).get(
    '/v1/audit/stats',
    async ({ caller, query }) => {
      const tenantId = tenantScope(caller, query.tenantId)
      const { from, to } = query
      const filter = toFilter(
        { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
        tenantId,
      )
      const groups = await store.stats(filter, query.groupBy)
      return {
        groupBy: query.groupBy,
        tenantId: tenantId ?? null,
        from: filter.from?.toISOString() ?? null,
        to: filter.to?.toISOString() ?? null,
        total: groups.reduce((sum, g) => sum + g.count, 0),
        groups,
      }
    },
    {
      query: StatsQuery,
      response: {
        200: StatsResponse,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        404: ErrorBody,
      },
      detail: {
        summary: 'Count audit records by type, actor or source',
        description: ERRORS.errorList('INVALID_TIME', 'INVALID_RANGE', ...READ_ERRORS),
        tags: ['audit'],
        security: [{ bearer: [] }],
      },
    },
  )
