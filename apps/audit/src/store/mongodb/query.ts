/** Pure pieces of the MongoDB store: document shape, index definitions, filters → query documents. */
import type { Document, IndexDescription, Sort } from 'mongodb'
import type { AuditRecord } from '../../records/model.ts'
import {
  type CountDimension,
  type CountsQuery,
  INTERVAL_MS,
  NO_ACTOR,
  NO_TENANT,
  type PageKey,
  prefixUpperBound,
  type RecordFilter,
  type StatsGroupBy,
} from '../types.ts'

/** A record as stored: the payload kept as its JSON text so the hashed content round-trips exactly. */
export type RecordDocument = Omit<AuditRecord, 'payload'> & { payloadJson: string; occurredMs: number }

export interface AnchorDocument {
  chain: string
  seq: number
  hash: string
  prunedAt: string
}

export const RECORDS_COLLECTION = 'audit_records'
export const ANCHORS_COLLECTION = 'audit_anchors'
/** Ids of events whose records retention deleted (`_id` = event id): replays of them stay duplicates. */
export const PRUNED_EVENTS_COLLECTION = 'audit_pruned_events'

export interface PrunedEventDocument {
  _id: string
  chain: string
  prunedAt: string
}

/** Indexes created at start: uniqueness carries idempotency and the gapless chain; the rest serve queries. */
export const RECORD_INDEXES: IndexDescription[] = [
  { key: { eventId: 1 }, name: 'event_id_unique', unique: true },
  { key: { chain: 1, seq: 1 }, name: 'chain_seq_unique', unique: true },
  { key: { occurredMs: -1, eventId: -1 }, name: 'time' },
  { key: { tenantId: 1, occurredMs: -1, eventId: -1 }, name: 'tenant_time' },
  { key: { actorId: 1, occurredMs: -1 }, name: 'actor_time' },
  { key: { type: 1, occurredMs: -1 }, name: 'type_time' },
  { key: { subjectId: 1, occurredMs: -1 }, name: 'subject_time' },
  { key: { correlationId: 1 }, name: 'correlation' },
  { key: { chain: 1, receivedAt: 1 }, name: 'chain_received' },
]
export const ANCHOR_INDEXES: IndexDescription[] = [{ key: { chain: 1 }, name: 'chain_unique', unique: true }]

/** Newest first, ties broken by event id: the keyset order of listing and export. */
export const LIST_SORT: Sort = { occurredMs: -1, eventId: -1 }

export const toDocument = ({ payload, ...rest }: AuditRecord): RecordDocument => ({
  ...rest,
  payloadJson: JSON.stringify(payload),
  occurredMs: Date.parse(rest.occurredAt),
})

export const fromDocument = (doc: RecordDocument & { _id?: unknown }): AuditRecord => {
  const { _id, payloadJson, occurredMs: _ms, ...rest } = doc
  return { ...rest, payload: JSON.parse(payloadJson) as Record<string, unknown> }
}

/** Filter (and keyset position) → a MongoDB query document. */
export const filterToQuery = (filter: RecordFilter, after?: PageKey): Document => {
  const q: Document = {}
  if (filter.tenantId !== undefined) q.tenantId = filter.tenantId
  if (filter.actorId !== undefined) q.actorId = filter.actorId
  if (filter.actorType !== undefined) q.actorType = filter.actorType
  if (filter.subjectId !== undefined) q.subjectId = filter.subjectId
  if (filter.correlationId !== undefined) q.correlationId = filter.correlationId
  if (filter.type !== undefined || filter.typePrefix !== undefined) {
    const type: Document = {}
    if (filter.type !== undefined) type.$eq = filter.type
    // A range, not a regex: uses the index and needs no escaping.
    if (filter.typePrefix !== undefined) {
      type.$gte = filter.typePrefix
      type.$lt = prefixUpperBound(filter.typePrefix)
    }
    q.type = type
  }
  if (filter.from !== undefined || filter.to !== undefined) {
    const time: Document = {}
    if (filter.from !== undefined) time.$gte = filter.from.getTime()
    if (filter.to !== undefined) time.$lt = filter.to.getTime()
    q.occurredMs = time
  }
  if (after) {
    q.$or = [
      { occurredMs: { $lt: after.occurredMs } },
      { occurredMs: after.occurredMs, eventId: { $lt: after.eventId } },
    ]
  }
  return q
}

/** The `_id` expression of a stats `$group` stage (or one field of a counts `_id`). */
const groupKeyExpression = (groupBy: StatsGroupBy | CountDimension): unknown => {
  if (groupBy === 'type') return '$type'
  if (groupBy === 'source') return '$source'
  if (groupBy === 'tenant') return { $ifNull: ['$tenantId', NO_TENANT] }
  // $concat yields null when either part is null: those events have no actor.
  return { $ifNull: [{ $concat: ['$actorType', ':', '$actorId'] }, NO_ACTOR] }
}

/** The aggregation pipeline behind stats. */
export const statsPipeline = (filter: RecordFilter, groupBy: StatsGroupBy): Document[] => [
  { $match: filterToQuery(filter) },
  { $group: { _id: groupKeyExpression(groupBy), count: { $sum: 1 } } },
  { $sort: { count: -1, _id: 1 } },
]

/** The aggregation pipeline behind counts: the same groups and order as the SQL stores. */
export const countsPipeline = (query: CountsQuery): Document[] => {
  const id: Document = {}
  if (query.interval) {
    const ms = INTERVAL_MS[query.interval]
    // A floor that is right before 1970 too, as in SQL.
    id.bucket = { $subtract: ['$occurredMs', { $mod: [{ $add: [{ $mod: ['$occurredMs', ms] }, ms] }, ms] }] }
  }
  for (const d of query.groupBy) id[d] = groupKeyExpression(d)
  const sort: Document = {}
  if (query.interval) sort['_id.bucket'] = 1
  sort.count = -1
  for (const d of query.groupBy) sort[`_id.${d}`] = 1
  return [
    { $match: filterToQuery(query.filter) },
    { $group: { _id: id, count: { $sum: 1 } } },
    { $sort: sort },
    { $limit: query.limit },
  ]
}

/** The aggregation pipeline behind top actors. */
export const topActorsPipeline = (filter: RecordFilter, limit: number): Document[] => [
  { $match: { $and: [filterToQuery(filter), { actorType: { $ne: null }, actorId: { $ne: null } }] } },
  { $group: { _id: { actorType: '$actorType', actorId: '$actorId' }, count: { $sum: 1 } } },
  { $sort: { count: -1, '_id.actorType': 1, '_id.actorId': 1 } },
  { $limit: limit },
]
