/** createApp(deps): the auth service's Elysia app (never listens; main.ts and tests decide how to serve it). */
import { createServiceApp, type HttpRuntime } from '@flotilla/service-kit'
import type { Core } from './deps.ts'
import { deviceRoutes } from './devices/routes.ts'
import { createGuards } from './http/guards.ts'
import { introspectionRoutes } from './introspection/routes.ts'
import { Jwks, jwksRoutes, keyAdminRoutes } from './keys/routes.ts'
import { refreshRoutes, sessionRoutes } from './sessions/routes.ts'

export interface AppDeps {
  readonly core: Core
  /** What the runner wires: logger, metrics, readiness, service keys, dead letters. */
  readonly http: HttpRuntime
  /** Header with the client ip when behind a trusted proxy (`fly-client-ip`); else the socket address. */
  readonly trustedProxyHeader?: string
}

/** Builds the app: JWKS, sessions, refresh, devices and introspection on the kit's base app. */
export const createApp = (deps: AppDeps) => {
  const { core } = deps
  const { http } = deps
  const guards = createGuards(http.serviceKeys, { verify: core.checker.authenticate })
  const proxy = deps.trustedProxyHeader ? { trustedProxyHeader: deps.trustedProxyHeader } : {}
  const routeDeps = { sessions: core.sessions, guards, rateLimits: core.rateLimits, ...proxy }
  return createServiceApp({
    ...http,
    // 16 KiB: the largest body here is a session request with a user agent.
    bodyLimitBytes: 16 * 1024,
    acceptedContentTypes: ['application/json', 'application/x-www-form-urlencoded'],
    swagger: {
      title: 'Flotilla auth API',
      // Shared models: in components.schemas, referenced wherever a route answers with them.
      models: { Jwks },
      description:
        'Sessions, refresh-token families, devices, token introspection and the JWKS. Service routes take a service token (audience `auth`); user routes also take the user’s own access token.',
      tags: [
        { name: 'sessions', description: 'Create, refresh, list and revoke sessions' },
        { name: 'devices', description: 'Devices a user signed in from' },
        { name: 'tokens', description: 'Introspection and public keys' },
      ],
    },
  })
    .use(jwksRoutes(core.keyRing))
    .use(keyAdminRoutes(core.keyRing, guards))
    .use(refreshRoutes(routeDeps))
    .use(sessionRoutes(routeDeps))
    .use(deviceRoutes({ ...routeDeps, devices: core.devices }))
    .use(introspectionRoutes({ checker: core.checker, guards, gate: core.introspectionGate, ...proxy }))
}

/** The app's type: the monolith's Eden treaty client is typed from it. */
export type AuthApp = ReturnType<typeof createApp>
