/**
 * GET /v1/audit/stats — record counts grouped by type, actor or source; GET /v1/audit/stats/counts — counts
 * by any of type, actor, source and tenant, per hour or day; GET /v1/audit/stats/top-actors. Every count is
 * computed by the store's database (SQL or an aggregation pipeline), never by reading records here.
 */
import { type CallerAuthOptions, callerAuth, tenantScope } from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { ERRORS, ErrorBody, READ_ERRORS } from '../errors.ts'
import { toFilter } from '../events/model.ts'
import type { AuditStore } from '../store/types.ts'
import { CountsQuery, CountsResponse, parseGroupBy, TopActorsQuery, TopActorsResponse } from './model.ts'

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

const ERROR_RESPONSES = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }

export const statsRoutes = ({ store, auth }: { store: AuditStore; auth: CallerAuthOptions }) =>
  new Elysia()
    .use(callerAuth(auth))
    .get(
      '/v1/audit/stats',
      async ({ caller, query }) => {
        const tenantId = tenantScope(caller, query.tenantId)
        const filter = toFilter({ from: query.from, to: query.to }, tenantId)
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
    .get(
      '/v1/audit/stats/counts',
      async ({ caller, query }) => {
        const groupBy = parseGroupBy(query.groupBy)
        const tenantId = tenantScope(caller, query.tenantId)
        const filter = toFilter(query, tenantId)
        const limit = query.limit ?? 1000
        // One row more than asked: whether the answer was cut.
        const rows = await store.counts({
          filter,
          groupBy,
          ...(query.interval ? { interval: query.interval } : {}),
          limit: limit + 1,
        })
        return {
          groupBy,
          interval: query.interval ?? null,
          tenantId: tenantId ?? null,
          from: filter.from?.toISOString() ?? null,
          to: filter.to?.toISOString() ?? null,
          truncated: rows.length > limit,
          rows: rows.slice(0, limit).map((row) => ({
            ...(row.bucketMs === undefined ? {} : { bucket: new Date(row.bucketMs).toISOString() }),
            ...row.keys,
            count: row.count,
          })),
        }
      },
      {
        query: CountsQuery,
        response: { 200: CountsResponse, ...ERROR_RESPONSES },
        detail: {
          summary: 'Count audit records by type, actor, source and tenant, per hour or day',
          description: ERRORS.describe(
            'Counts over a time range (`from` inclusive, `to` exclusive, on occurredAt) grouped by any of the dimensions, optionally per UTC hour or day; the same filters as listing narrow it. Rows are ordered by bucket, then count (highest first), then the keys.',
            'INVALID_TIME',
            'INVALID_RANGE',
            'INVALID_GROUP_BY',
            ...READ_ERRORS,
          ),
          tags: ['audit'],
          security: [{ bearer: [] }],
        },
      },
    )
    .get(
      '/v1/audit/stats/top-actors',
      async ({ caller, query }) => {
        const tenantId = tenantScope(caller, query.tenantId)
        const filter = toFilter(query, tenantId)
        const actors = await store.topActors(filter, query.limit ?? 10)
        return {
          tenantId: tenantId ?? null,
          from: filter.from?.toISOString() ?? null,
          to: filter.to?.toISOString() ?? null,
          actors: actors.map((a) => ({ actor: `${a.actorType}:${a.actorId}`, ...a })),
        }
      },
      {
        query: TopActorsQuery,
        response: { 200: TopActorsResponse, ...ERROR_RESPONSES },
        detail: {
          summary: 'The actors with the most audit records',
          description: ERRORS.describe(
            'Actors ranked by their number of records matching the filters (events without an actor left out).',
            'INVALID_TIME',
            'INVALID_RANGE',
            ...READ_ERRORS,
          ),
          tags: ['audit'],
          security: [{ bearer: [] }],
        },
      },
    )
