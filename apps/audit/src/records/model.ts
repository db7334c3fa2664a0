/** The audit record: one immutable, hash-chained entry per event. Schemas written once, types derived. */
import { t } from 'elysia'

/** `prevHash` of the first record of a chain that has never been pruned. */
export const GENESIS_HASH = '0'.repeat(64)

/** Chain of events that carry no tenant. */
export const GLOBAL_CHAIN = 'global'

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()])

/** Everything about the event that the record keeps; the store adds `chain`, `seq`, `prevHash` and `hash`. */
export const RecordInput = t.Object({
  eventId: t.String({ description: 'envelope id; unique across the store' }),
  type: t.String({ examples: ['user.registered'] }),
  version: t.Integer(),
  action: t.String({ description: 'the verb of the type (its last segment)', examples: ['registered'] }),
  tenantId: Nullable(t.String()),
  actorType: Nullable(t.String()),
  actorId: Nullable(t.String()),
  subjectType: Nullable(t.String()),
  subjectId: Nullable(t.String()),
  source: t.String(),
  occurredAt: t.String({ description: 'as the producer wrote it (ISO-8601 UTC)' }),
  receivedAt: t.String({ description: 'when audit recorded it (ISO-8601 UTC)' }),
  correlationId: Nullable(t.String()),
  causationId: Nullable(t.String()),
  payload: t.Record(t.String(), t.Unknown()),
})
export type RecordInput = typeof RecordInput.static

/** A stored record. `hash` = SHA-256 of the RFC 8785 canonical JSON of every other field. */
export const AuditRecord = t.Object({
  ...RecordInput.properties,
  chain: t.String({ description: 'tenant id, or `global`' }),
  seq: t.Integer({ minimum: 1, description: 'position in the chain, gapless from 1' }),
  prevHash: t.String({ description: 'hash of the previous record (or of the last pruned one, or 64 zeros)' }),
  hash: t.String(),
})
export type AuditRecord = typeof AuditRecord.static

/** Where a chain stands: its last record, or what pruning left behind. */
export interface ChainHead {
  readonly chain: string
  readonly seq: number
  readonly hash: string
  /** Type and source of the head record; absent when the chain is empty (head = anchor or genesis). */
  readonly type?: string
  readonly source?: string
}

/** Seq and hash of the last record a retention run deleted: the chain restarts its verification there. */
export interface RetentionAnchor {
  readonly chain: string
  readonly seq: number
  readonly hash: string
  readonly prunedAt: string
}

/** The column order used by exports (CSV header, NDJSON key order). */
export const RECORD_FIELDS = [
  'chain',
  'seq',
  'eventId',
  'type',
  'version',
  'action',
  'tenantId',
  'actorType',
  'actorId',
  'subjectType',
  'subjectId',
  'source',
  'occurredAt',
  'receivedAt',
  'correlationId',
  'causationId',
  'payload',
  'prevHash',
  'hash',
] as const satisfies readonly (keyof AuditRecord)[]
