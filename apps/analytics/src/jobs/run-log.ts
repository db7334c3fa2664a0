/** The job run log the dashboard shows: one `job_runs` row per slot that ran (or failed) on some instance. */
import type { JobOutcome, Logger } from '@flotilla/service-kit'
import { sql } from 'drizzle-orm'
import type { Db } from '../db/types.ts'

/** Records a run outcome; `locked` and `done` (another instance had the slot) are not runs and are skipped. */
export const createJobRunLog =
  ({ db, instance, logger }: { db: Db; instance: string; logger: Pick<Logger, 'error'> }) =>
  (outcome: JobOutcome): void => {
    if (outcome.status !== 'ran' && outcome.status !== 'failed') return
    const now = Date.now()
    const result = outcome.status === 'ran' ? outcome.result : { error: outcome.error }
    db.run(
      sql`INSERT INTO job_runs (job, slot, instance, started_at, finished_at, result)
        VALUES (${outcome.job}, ${outcome.slot}, ${instance}, ${now}, ${now}, ${JSON.stringify(result ?? null)})
        ON CONFLICT DO NOTHING`,
    ).then(
      () => undefined,
      (error: unknown) => logger.error({ err: error, job: outcome.job }, 'could not record the job run'),
    )
  }
