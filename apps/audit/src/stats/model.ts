/** Query and response schemas of the analytics routes (counts over time and dimensions, top actors). */
import { t } from 'elysia'
import { ERRORS } from '../errors.ts'
import { RecordQuery } from '../events/model.ts'
import { COUNT_DIMENSIONS, type CountDimension } from '../store/types.ts'

const DIMENSION = `(${COUNT_DIMENSIONS.join('|')})`

export const CountsQuery = t.Object({
  ...RecordQuery.properties,
  groupBy: t.Optional(
    t.String({
      pattern: `^${DIMENSION}(,${DIMENSION})*$`,
      maxLength: 64,
      description: `comma-separated, each at most once: ${COUNT_DIMENSIONS.join(', ')} (none: one total)`,
      examples: ['type,actor'],
    }),
  ),
  interval: t.Optional(
    t.Union([t.Literal('hour'), t.Literal('day')], { description: 'adds a UTC time bucket on occurredAt' }),
  ),
  limit: t.Optional(
    t.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1000,
      description: 'rows at most (`truncated` says more exist)',
    }),
  ),
})
export type CountsQuery = typeof CountsQuery.static

const Key = (description: string) => t.Optional(t.String({ description }))

export const CountsResponse = t.Object({
  groupBy: t.Array(t.String()),
  interval: t.Union([t.Literal('hour'), t.Literal('day'), t.Null()]),
  tenantId: t.Union([t.String(), t.Null()]),
  from: t.Union([t.String(), t.Null()]),
  to: t.Union([t.String(), t.Null()]),
  /** More rows matched than `limit`. */
  truncated: t.Boolean({ description: 'more rows matched than limit' }),
  rows: t.Array(
    t.Object({
      bucket: Key('start of the hour or day (ISO-8601 UTC), with an interval'),
      type: Key('event type'),
      actor: Key('`actorType:actorId`, or `(none)`'),
      source: Key('producing service'),
      tenant: Key('tenant id, or `(none)`'),
      count: t.Integer(),
    }),
  ),
})
export type CountsResponse = typeof CountsResponse.static

export const TopActorsQuery = t.Object({
  ...RecordQuery.properties,
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 10 })),
})
export type TopActorsQuery = typeof TopActorsQuery.static

export const TopActorsResponse = t.Object({
  tenantId: t.Union([t.String(), t.Null()]),
  from: t.Union([t.String(), t.Null()]),
  to: t.Union([t.String(), t.Null()]),
  actors: t.Array(
    t.Object({
      actor: t.String({ description: '`actorType:actorId`' }),
      actorType: t.String(),
      actorId: t.String(),
      count: t.Integer(),
    }),
  ),
})

/** `type,actor` → the dimensions, in order; a dimension named twice is a 400. */
export const parseGroupBy = (value: string | undefined): CountDimension[] => {
  if (value === undefined) return []
  const list = value.split(',') as CountDimension[]
  const repeated = list.find((d, i) => list.indexOf(d) !== i)
  if (repeated !== undefined) {
    throw ERRORS.error(400, 'INVALID_GROUP_BY', `groupBy names ${repeated} twice`, {
      details: { groupBy: value },
    })
  }
  return list
}
