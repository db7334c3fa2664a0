/** The audit service's own Prometheus series, registered on the kit's registry. */
import { Counter, type Metrics } from '@flotilla/service-kit'

export interface AuditMetrics {
  appended(records: number, duplicates: number): void
  verified(chain: string, ok: boolean): void
  checkpointed(count: number): void
  pruned(count: number): void
  exported(records: number): void
}

/** Creates the counters once per registry. */
export const createAuditMetrics = (metrics: Metrics): AuditMetrics => {
  const counter = (name: string, help: string, labelNames: readonly string[] = []) =>
    new Counter({ name, help, labelNames, registers: [metrics.registry] })
  const records = counter('audit_records_appended_total', 'Audit records written')
  const duplicates = counter(
    'audit_duplicates_skipped_total',
    'Events already recorded (redelivery, replays, double publishes), skipped',
  )
  const verifications = counter('audit_verifications_total', 'Chain verifications, by result', ['result'])
  const checkpoints = counter('audit_checkpoints_published_total', 'audit.checkpoint events published')
  const pruned = counter('audit_retention_anchors_total', 'Chains pruned by the retention job')
  const exported = counter('audit_exported_records_total', 'Records exported')
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
