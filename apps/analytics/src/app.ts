/** `createApp(deps)`: the analytics HTTP app (stats API, dashboard, dead letters, probes). Never listens. */
import { createServiceApp, deadLetterRoutes } from '@flotilla/service-kit'
import { httpTracing } from '@flotilla/telemetry'
import { sql } from 'drizzle-orm'
import { dashboardRoutes } from './dashboard/routes.ts'
import { ANALYTICS_GROUP, type AnalyticsDeps } from './deps.ts'
import { statsRoutes } from './stats/routes.ts'

/** The service version (health, Swagger, spans). */
export const VERSION = '0.1.0'

/** Builds the app from its dependencies. */
export const createApp = (deps: AnalyticsDeps) => {
  const auth = { serviceVerifier: deps.serviceVerifier, accessTokenVerifier: deps.accessTokenVerifier }
  return createServiceApp({
    name: 'analytics',
    version: VERSION,
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: {
      redis: () => deps.redis.ping(),
      store: () => deps.database.db.run(sql`SELECT 1`),
      consumer: async () => {
        const { state } = deps.consumer.status()
        if (state !== 'running') throw new Error(`consumer is ${state}`)
      },
    },
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
    .use(httpTracing())
    .use(statsRoutes({ stats: deps.stats, auth }))
    .use(dashboardRoutes({ data: deps.dashboard, auth, public: deps.config.dashboardPublic }))
    .use(
      deadLetterRoutes({ deadLetters: { [ANALYTICS_GROUP]: deps.deadLetters }, auth: deps.serviceVerifier }),
    )
}

/** The analytics app's type (for Eden treaty clients). */
export type AnalyticsApp = ReturnType<typeof createApp>
