/** Analytics' own Prometheus series, on the kit's registry: what ingest counted and skipped, and job runs. */
import { Counter, type JobOutcome, type Metrics } from '@flotilla/service-kit'
import type { IngestResult } from './ingest/service.ts'

export interface AnalyticsMetrics {
  /** Records one ingested batch. */
  ingested(result: IngestResult): void
  /** Records one job outcome on this instance. */
  job(outcome: JobOutcome): void
}

/** Registers the counters (no per-type labels: opaque event types would make the label set unbounded). */
export const createAnalyticsMetrics = (metrics: Metrics): AnalyticsMetrics => {
  const registers = [metrics.registry]
  const counted = new Counter({
    name: 'analytics_events_counted_total',
    help: 'Events counted (first time their envelope id was seen)',
    registers,
  })
  const duplicates = new Counter({
    name: 'analytics_events_duplicate_total',
    help: 'Events skipped because their envelope id was already counted (redelivery, re-append, replay)',
    registers,
  })
  const jobs = new Counter({
    name: 'analytics_job_runs_total',
    help: 'Scheduled job outcomes on this instance (ran, failed, locked = another instance had it, done = slot already ran)',
    labelNames: ['job', 'status'] as const,
    registers,
  })
  return {
    ingested(r) {
      counted.inc(r.counted)
      duplicates.inc(r.duplicates)
    },
    job(o) {
      jobs.inc({ job: o.job, status: o.status })
    },
  }
}
