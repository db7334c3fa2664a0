/** The rows the audit store writes for the bench events, sealed on one chain: the raw baselines insert these. */
import { type AuditRecord, GENESIS_HASH, hashRecord } from '@flotilla/audit'
import { recordInputOf } from '@flotilla/audit/testing'
import { benchEvent } from './fixtures.ts'

/** The audit table's columns, in the order `rowOf` gives values. */
export const AUDIT_COLUMNS = [
  'event_id',
  'chain',
  'seq',
  'type',
  'version',
  'action',
  'tenant_id',
  'actor_type',
  'actor_id',
  'subject_type',
  'subject_id',
  'source',
  'occurred_at',
  'occurred_ms',
  'received_at',
  'correlation_id',
  'causation_id',
  'payload',
  'prev_hash',
  'hash',
] as const

export type AuditRow = Record<(typeof AUDIT_COLUMNS)[number], string | number | null>

/** The records the audit store would write for the bench events, sealed on one chain (not timed). */
export const recordsOf = (n: number): AuditRecord[] => {
  let prevHash = GENESIS_HASH
  const receivedAt = new Date()
  return Array.from({ length: n }, (_, i) => {
    const input = recordInputOf(benchEvent(i), receivedAt)
    const record: AuditRecord = { ...input, chain: 'global', seq: i + 1, prevHash, hash: '' }
    record.hash = hashRecord(record)
    prevHash = record.hash
    return record
  })
}

/** A record's row in `AUDIT_COLUMNS` order. */
export const rowOf = (r: AuditRecord) => [
  r.eventId,
  r.chain,
  r.seq,
  r.type,
  r.version,
  r.action,
  r.tenantId,
  r.actorType,
  r.actorId,
  r.subjectType,
  r.subjectId,
  r.source,
  r.occurredAt,
  Date.parse(r.occurredAt),
  r.receivedAt,
  r.correlationId,
  r.causationId,
  JSON.stringify(r.payload),
  r.prevHash,
  r.hash,
]

/** A record's row keyed by column (postgres.js inserts objects). */
export const rowObjectOf = (r: AuditRecord): AuditRow => {
  const values = rowOf(r)
  return Object.fromEntries(AUDIT_COLUMNS.map((c, i) => [c, values[i] ?? null])) as AuditRow
}
