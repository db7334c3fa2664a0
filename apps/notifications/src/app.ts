/** createApp(deps): the notification service's Elysia app (never listens; main.ts and tests decide how to serve it). */
import { createServiceApp, type HttpRuntime } from '@flotilla/service-kit'
import { settingsRoutes } from './contacts/routes.ts'
import { deliveryRoutes } from './deliveries/routes.ts'
import type { Core } from './deps.ts'
import { outboxRoutes } from './outbox/routes.ts'
import { Preferences } from './preferences/model.ts'
import { preferenceRoutes } from './preferences/routes.ts'
import { templateRoutes } from './templates/routes.ts'
import { webhookRoutes } from './webhooks/routes.ts'
import { createWebhookService } from './webhooks/service.ts'

/** The service-token audience of this service. */
export const AUDIENCE = 'notifications'

export interface AppDeps {
  readonly core: Core
  /** What the runner wires: logger, metrics, readiness, service tokens, dead letters. */
  readonly http: HttpRuntime
}

/** Builds the app: templates, preferences, delivery status, outbox, Resend webhooks and dead letters. */
export const createApp = (deps: AppDeps) => {
  const { core, http } = deps
  const verifier = http.serviceVerifier
  const webhooks = core.settings.webhookSecret
    ? createWebhookService({
        db: core.database.db,
        deliveries: core.deliveries,
        events: core.events,
        secret: core.settings.webhookSecret,
      })
    : undefined
  return createServiceApp({
    ...http,
    // 256 KiB: Resend webhook bodies can carry a whole message's metadata.
    bodyLimitBytes: 256 * 1024,
    swagger: {
      title: 'Flotilla notifications API',
      // Shared models: in components.schemas, referenced wherever a route answers with them.
      models: { Preferences },
      description:
        'Templates (preview), preferences, delivery status, the local outbox, Resend webhooks and dead letters. Routes take a service token (audience `notifications`); the webhook takes its Svix signature.',
      tags: [
        { name: 'templates', description: 'Shipped templates and previews' },
        { name: 'preferences', description: 'Opt-outs per category × channel; time zone and quiet hours' },
        { name: 'notifications', description: 'Delivery log and status' },
        { name: 'outbox', description: 'Local outbox (no provider configured)' },
        { name: 'webhooks', description: 'Provider delivery events' },
      ],
    },
  })
    .use(templateRoutes({ registry: core.registry, verifier }))
    .use(preferenceRoutes({ preferences: core.preferences, verifier }))
    .use(settingsRoutes({ contacts: core.contacts, verifier }))
    .use(deliveryRoutes({ deliveries: core.deliveries, verifier, cancel: core.cancel }))
    .use(outboxRoutes({ outbox: core.outbox, verifier }))
    .use(webhookRoutes({ webhooks }))
}

/** The app's type (for an Eden treaty client). */
export type NotificationsApp = ReturnType<typeof createApp>
