/** The audit service's own Prometheus series, registered on the kit's registry. */
import type { Metrics } from '@flotilla/service-kit'
import { Counter } from 'prom-client'

export interface AuditMetrics {
  appended(records: number, duplicates: number): void
  verified(chain: string, ok: boolean): void
  checkpointed(count: number): void
  pruned(count: number): void
  exported(records: number): void
}

/** Creates the counters once per registry. */
export const createAuditMetrics = (metrics: Metrics): AuditMetrics => {
  const registers = [metrics.registry]
  const records = new Counter({
    name: 'audit_records_appended_total',
    help: 'Audit records written',
    registers,
  })
  const duplicates = new Counter({
    name: 'audit_duplicates_skipped_total',
    help: 'Events already recorded (redelivery, replays, double publishes), skipped',
    registers,
  })
  const verifications = new Counter({
    name: 'audit_verifications_total',
    help: 'Chain verifications, by result',
    labelNames: ['result'],
    registers,
  })
  const checkpoints = new Counter({
    name: 'audit_checkpoints_published_total',
    help: 'audit.checkpoint events published',
    registers,
  })
  const pruned = new Counter({
    name: 'audit_retention_anchors_total',
    help: 'Chains pruned by the retention job',
    registers,
  })
  const exported = new Counter({ name: 'audit_exported_records_total', help: 'Records exported', registers })
  return {
    appended: (n, d) => {
      records.inc(n)
      duplicates.inc(d)
    },
    verified: (_chain, ok) => verifications.inc({ result: ok ? 'ok' : 'broken' }),
    checkpointed: (n) => checkpoints.inc(n),
    pruned: (n) => pruned.inc(n),
    exported: (n) => exported.inc(n),
  }
}
