/** Query and response schemas of the audit read API (shared by listing, export and stats). */
import { CursorQuery, createCursorCodec } from '@flotilla/service-kit'
import { t } from 'elysia'
import { ERRORS } from '../errors.ts'
import { AuditRecord } from '../records/model.ts'
import type { RecordFilter } from '../store/types.ts'

const Id = t.String({ minLength: 1, maxLength: 200 })
const Timestamp = (description: string) =>
  t.String({
    maxLength: 40,
    description: `ISO-8601 date-time; ${description}`,
    examples: ['2026-01-01T00:00:00Z'],
  })

/** Filters every read route accepts. */
export const RecordQuery = t.Object({
  tenantId: t.Optional(Id),
  actorId: t.Optional(Id),
  actorType: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  type: t.Optional(
    t.String({
      maxLength: 128,
      pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?$',
      description: 'an exact type (`user.deleted`) or a prefix ending in `.*` (`user.*`)',
    }),
  ),
  subjectId: t.Optional(Id),
  correlationId: t.Optional(Id),
  from: t.Optional(Timestamp('occurredAt >= from')),
  to: t.Optional(Timestamp('occurredAt < to')),
})
export type RecordQuery = typeof RecordQuery.static

export const ListQuery = t.Object({
  ...RecordQuery.properties,
  cursor: t.Optional(CursorQuery),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 50 })),
})
export type ListQuery = typeof ListQuery.static

/** The listing's cursor: the keyset position (occurredAt, then event id) after which the next page starts. */
export const eventCursor = createCursorCodec(
  t.Object({ occurredMs: t.Integer(), eventId: t.String({ minLength: 1, maxLength: 200 }) }),
)

export const EventPage = t.Object({
  items: t.Array(AuditRecord),
  nextCursor: t.Union([t.String(), t.Null()], { description: 'null on the last page' }),
})
export type EventPage = typeof EventPage.static

const parseTime = (name: string, value: string | undefined): Date | undefined => {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(ms)) {
    throw ERRORS.error(400, 'INVALID_TIME', `${name} must be an ISO-8601 date-time`, {
      details: { [name]: value },
    })
  }
  return new Date(ms)
}

/** Query → store filter, with the tenant already decided by the caller's scope. */
export const toFilter = (
  query: Partial<Record<keyof RecordQuery, string | undefined>>,
  tenantId: string | undefined,
): RecordFilter => {
  const from = parseTime('from', query.from)
  const to = parseTime('to', query.to)
  if (from && to && from.getTime() >= to.getTime()) {
    throw ERRORS.error(400, 'INVALID_RANGE', 'from must be before to')
  }
  const type = query.type
  const prefix = type?.endsWith('.*') ? type.slice(0, -1) : undefined
  return {
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(query.actorId !== undefined ? { actorId: query.actorId } : {}),
    ...(query.actorType !== undefined ? { actorType: query.actorType } : {}),
    ...(prefix !== undefined ? { typePrefix: prefix } : type !== undefined ? { type } : {}),
    ...(query.subjectId !== undefined ? { subjectId: query.subjectId } : {}),
    ...(query.correlationId !== undefined ? { correlationId: query.correlationId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  }
}
