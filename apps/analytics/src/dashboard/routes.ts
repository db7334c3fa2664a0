/** `GET /dashboard` (the page), its assets (uPlot served locally, no CDN) and `GET /dashboard/data` (JSON). */
import {
  BEARER_SECURITY,
  type CallerAuthOptions,
  notFound,
  resolveCaller,
  tenantScope,
} from '@flotilla/service-kit'
import { Elysia, t } from 'elysia'
import { READ_SCOPE } from '../auth/tenant.ts'
import { ERRORS, ErrorBody } from '../errors.ts'
import { DASHBOARD_ASSETS } from './assets.ts'
import client from './dashboard-client.js' with { type: 'text' }
import { DashboardData } from './model.ts'
import { DASHBOARD_HTML } from './page.ts'
import type { DashboardDataLoader } from './service.ts'

export interface DashboardRoutesOptions {
  readonly data: DashboardDataLoader
  readonly auth: Omit<CallerAuthOptions, 'requiredScope'>
  /**
   * When true the data route answers without a token (any tenant, or all). Otherwise it needs a service
   * token or a user token with `analytics:read` (scoped to its tenant), given to the page as `#token=`.
   */
  readonly public: boolean
}

const ASSETS: Readonly<Record<string, { body: string; type: string }>> = {
  ...DASHBOARD_ASSETS,
  'dashboard.js': { body: client, type: 'text/javascript; charset=utf-8' },
}

const DataQuery = t.Object({
  tenantId: t.Optional(
    t.String({ minLength: 1, maxLength: 200, description: 'One tenant; omitted = every tenant' }),
  ),
})

/** The dashboard routes. */
export const dashboardRoutes = (o: DashboardRoutesOptions) =>
  new Elysia({ name: 'analytics/dashboard' })
    .get(
      '/dashboard',
      () =>
        new Response(DASHBOARD_HTML, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy':
              "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
            'referrer-policy': 'no-referrer',
          },
        }),
      {
        detail: {
          tags: ['dashboard'],
          summary: 'The analytics dashboard (HTML; charts drawn with uPlot served by this app)',
          // The page is public; the data it loads (`/dashboard/data`) takes a token.
          security: [],
          responses: {
            200: { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
    )
    .get(
      '/dashboard/assets/:file',
      ({ params }) => {
        const asset = ASSETS[params.file]
        if (!asset) throw notFound('no such asset')
        return new Response(asset.body, {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' },
        })
      },
      { detail: { hide: true } },
    )
    .get(
      '/dashboard/data',
      async ({ query, request }) => {
        const header = request.headers.get('authorization')
        let tenantId = query.tenantId
        if (header || !o.public) {
          const caller = await resolveCaller(header, { ...o.auth, requiredScope: READ_SCOPE })
          tenantId = tenantScope(caller, query.tenantId)
        }
        return o.data.load(tenantId)
      },
      {
        query: DataQuery,
        response: {
          200: DashboardData,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
        },
        detail: {
          tags: ['dashboard'],
          summary: 'Everything the dashboard shows, as JSON (the page polls it)',
          description: ERRORS.describe(
            'Needs a service token or a user token with analytics:read unless ANALYTICS_DASHBOARD_PUBLIC is on.',
            'INVALID_TOKEN',
            'INSUFFICIENT_SCOPE',
            'TENANT_REQUIRED',
            'NOT_FOUND',
            'VALIDATION_FAILED',
          ),
          security: [{ [BEARER_SECURITY]: [] }],
        },
      },
    )
