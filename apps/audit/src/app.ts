/** createApp(deps): the audit service's Elysia app (never listens; main.ts and tests decide how to serve it). */
import { type CallerAuthOptions, createServiceApp, type HttpRuntime } from '@flotilla/service-kit'
import type { ExternalAnchors } from './chain/checkpoints.ts'
import { eventsRoutes } from './events/routes.ts'
import { exportRoutes } from './export/routes.ts'
import type { AuditMetrics } from './metrics.ts'
import { statsRoutes } from './stats/routes.ts'
import type { AuditStore } from './store/types.ts'
import { verifyRoutes } from './verify/routes.ts'

export interface AppDeps {
  readonly store: AuditStore
  /** Checkpoints and retention anchors kept outside the store (Redis), for verify. */
  readonly anchors?: ExternalAnchors
  /** What the runner wires: logger, metrics, readiness, service tokens, dead letters. */
  readonly http: HttpRuntime
  readonly auditMetrics?: AuditMetrics
  /** Service tokens (audience `audit`) and user access tokens; users need the `audit:read` scope. */
  readonly auth: CallerAuthOptions
  /** @defaultValue 1000 */
  readonly exportPageSize?: number
}

/** Builds the app: search, export, verify and stats on the kit's base app, plus the dead-letter inspector. */
export const createApp = (deps: AppDeps) => {
  const { store, auth, auditMetrics } = deps
  return createServiceApp({
    ...deps.http,
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
    .use(eventsRoutes({ store, auth }))
    .use(exportRoutes({ store, auth, pageSize: deps.exportPageSize, onExported: auditMetrics?.exported }))
    .use(verifyRoutes({ store, auth, anchors: deps.anchors, onVerified: auditMetrics?.verified }))
    .use(statsRoutes({ store, auth }))
}

/** The audit app's type (for Eden treaty clients). */
export type AuditApp = ReturnType<typeof createApp>
