/** Wraps a service declaration so that every job run on this instance is reported, besides its own outcome hook. */

import type { FeatureFlag, JobOutcome, ServiceConfig, ServiceDeclaration } from '@flotilla/service-kit'
import type { AnyElysia } from 'elysia'

/** One line of the job ledger: a slot this instance ran (or failed), by job name. */
export interface JobRun {
  readonly app: string
  readonly job: string
  readonly slot: number
  readonly status: 'ran' | 'failed'
  readonly instance: string
}

/** The same declaration; its jobs' outcomes that are runs also go to `record`. `locked` / `done` are not runs. */
export const withJobLedger = <
  C extends ServiceConfig,
  F extends Record<string, FeatureFlag>,
  D,
  A extends AnyElysia,
  O extends object,
>(
  declaration: ServiceDeclaration<C, F, D, A, O>,
  record: (run: JobRun) => void,
): ServiceDeclaration<C, F, D, A, O> => {
  const jobs = declaration.jobs
  if (!jobs) return declaration
  return {
    ...declaration,
    jobs: (deps, context) => {
      const declared = jobs(deps, context)
      return {
        ...declared,
        onOutcome: (outcome: JobOutcome) => {
          declared.onOutcome?.(outcome)
          if (outcome.status === 'ran' || outcome.status === 'failed')
            record({
              app: declaration.name,
              job: outcome.job,
              slot: outcome.slot,
              status: outcome.status,
              instance: context.instance,
            })
        },
      }
    },
  }
}
