/** `createApp(deps, http)`: the analytics HTTP app (stats API, dashboard) on the kit's base app. Never listens. */
import { type CallerAuthOptions, createServiceApp, type HttpRuntime } from '@flotilla/service-kit'
import { dashboardRoutes } from './dashboard/routes.ts'
import type { AnalyticsDomain } from './deps.ts'
import { statsRoutes } from './stats/routes.ts'

/** The domain plus who may read it. */
export interface AppDeps extends AnalyticsDomain {
  readonly auth: Omit<CallerAuthOptions, 'requiredScope'>
}

/** Builds the app from its dependencies and what the runner wires (logger, metrics, readiness, dead letters). */
export const createApp = (deps: AppDeps, http: HttpRuntime) =>
  createServiceApp({
    ...http,
    swagger: {
      title: 'Flotilla analytics API',
      description:
        'Event counts per type, tenant and source in time-zone-aware buckets, unique actors, duration percentiles, a dashboard, and the analytics dead letters.',
      tags: [
        { name: 'stats', description: 'Statistics (service token, or a user token with analytics:read)' },
        { name: 'dashboard', description: 'The live dashboard and its data' },
      ],
    },
  })
    .use(statsRoutes({ stats: deps.stats, auth: deps.auth }))
    .use(dashboardRoutes({ data: deps.dashboard, auth: deps.auth, public: deps.config.dashboardPublic }))

/** The analytics app's type (for Eden treaty clients). */
export type AnalyticsApp = ReturnType<typeof createApp>
