/** createApp(deps): the audit service's Elysia app (never listens; main.ts and tests decide how to serve it). */
import {
  type CallerAuthOptions,
  createServiceApp,
  deadLetterRoutes,
  type Logger,
  type Metrics,
  type ReadinessCheck,
} from '@flotilla/service-kit'
import type { DeadLetters } from '@flotilla/streams'
import { httpTracing } from '@flotilla/telemetry'
import type { ExternalAnchors } from './chain/checkpoints.ts'
import { eventsRoutes } from './events/routes.ts'
import { exportRoutes } from './export/routes.ts'
import { AUDIT_GROUP } from './ingest/consumer.ts'
import type { AuditMetrics } from './metrics.ts'
import { statsRoutes } from './stats/routes.ts'
import type { AuditStore } from './store/types.ts'
import { verifyRoutes } from './verify/routes.ts'

export interface AppDeps {
  readonly store: AuditStore
  /** Checkpoints and retention anchors kept outside the store (Redis), for verify. */
  readonly anchors?: ExternalAnchors
  readonly logger: Logger
  readonly metrics: Metrics
  readonly auditMetrics?: AuditMetrics
  /** Service tokens (audience `audit`) and user access tokens; users need the `audit:read` scope. */
  readonly auth: CallerAuthOptions
  /** The `audit` group's dead letters, for the inspector routes (`GET /v1/dead-letters`…). */
  readonly deadLetters: DeadLetters
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>
  /** @defaultValue 1000 */
  readonly exportPageSize?: number
  /** @defaultValue '0.1.0' */
  readonly version?: string
}

/** Builds the app: search, export, verify and stats on the kit's base app, plus the dead-letter inspector. */
export const createApp = (deps: AppDeps) => {
  const { store, auth, auditMetrics } = deps
  return createServiceApp({
    name: 'audit',
    version: deps.version ?? '0.1.0',
    logger: deps.logger,
    metrics: deps.metrics,
    ...(deps.readiness ? { readiness: deps.readiness } : {}),
    // Every audit route is a GET: no body is ever needed.
    bodyLimitBytes: 1024,
    swagger: {
      title: 'Flotilla audit API',
      description:
        'Append-only, hash-chained audit records of every event on the stream: search, streamed export, chain verification and counts. Services use a service token (audience `audit`); users an access token with the `audit:read` scope, for their own tenant only.',
      tags: [
        { name: 'audit', description: 'Audit records, exports, verification and stats' },
        { name: 'dead letters', description: 'Events the audit consumer could not record' },
      ],
    },
  })
    .use(httpTracing())
    .use(eventsRoutes({ store, auth }))
    .use(
      exportRoutes({
        store,
        auth,
        ...(deps.exportPageSize ? { pageSize: deps.exportPageSize } : {}),
        ...(auditMetrics ? { onExported: auditMetrics.exported } : {}),
      }),
    )
    .use(
      verifyRoutes({
        store,
        auth,
        ...(deps.anchors ? { anchors: deps.anchors } : {}),
        ...(auditMetrics ? { onVerified: auditMetrics.verified } : {}),
      }),
    )
    .use(statsRoutes({ store, auth }))
    .use(deadLetterRoutes({ deadLetters: { [AUDIT_GROUP]: deps.deadLetters }, auth: auth.serviceVerifier }))
}

/** The audit app's type (for Eden treaty clients). */
export type AuditApp = ReturnType<typeof createApp>
