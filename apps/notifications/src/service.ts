/** The notifications service, declared: templates → email / SMS / push over libSQL, one consumer of four event types. */
import { defineService } from '@flotilla/service-kit'
import { createApp } from './app.ts'
import { createTransports } from './channels/index.ts'
import { databaseUrlOf, loadNotificationsConfig, settingsOf, transportSettingsOf } from './config.ts'
import { openDatabase } from './db/client.ts'
import { buildCore } from './deps.ts'
import { notificationHandlers } from './handlers/index.ts'
import { deliveryMetrics, workflowMetrics } from './metrics.ts'

export const VERSION = '0.1.0'

export const notificationsService = defineService({
  name: 'notifications',
  version: VERSION,
  config: loadNotificationsConfig,
  async build({ config, redis, publisher, logger, metrics }) {
    const database = await openDatabase({
      url: databaseUrlOf(config),
      ...(config.NOTIFICATIONS_DB_AUTH_TOKEN ? { authToken: config.NOTIFICATIONS_DB_AUTH_TOKEN } : {}),
      // PostgreSQL down at boot: the service starts, `/ready` names the database until it is up.
      wait: false,
      logger,
    })
    const transports = createTransports(database.db, transportSettingsOf(config))
    logger.info(
      {
        providers: Object.fromEntries(
          Object.entries(transports).map(([channel, chain]) => [channel, chain.map((t) => t.provider)]),
        ),
      },
      'notification providers',
    )
    return buildCore({
      database,
      redis,
      settings: settingsOf(config),
      transports,
      events: publisher,
      logger,
      onAttempt: deliveryMetrics(metrics),
      onStatus: workflowMetrics(metrics),
    })
  },
  app: (core, http) => createApp({ core, http }),
  subscription: (core, { config }) => ({
    events: notificationHandlers(core.handlerDeps),
    consumer: {
      // maxDeliveries comes from the handler's settings, so the last delivery is known to both.
      maxDeliveries: core.handlerDeps.maxDeliveries,
      concurrency: config.NOTIFICATIONS_CONCURRENCY,
      claimIdleMs: config.NOTIFICATIONS_CLAIM_IDLE_MS,
      backoff: { baseMs: config.NOTIFICATIONS_RETRY_BASE_MS, maxMs: config.NOTIFICATIONS_RETRY_MAX_MS },
    },
  }),
  // Scheduled, held and digest deliveries: one instance at a time polls for those whose time came.
  jobs: (core, { config }) => ({
    keyPrefix: config.NOTIFICATIONS_REDIS_PREFIX,
    tickMs: config.NOTIFICATIONS_DUE_POLL_MS,
    list: [
      { name: 'due-deliveries', everyMs: config.NOTIFICATIONS_DUE_POLL_MS, run: () => core.poller.run() },
    ],
  }),
  readiness: (core) => ({
    // PostgreSQL names the database it reached, or why it cannot (never the credentials).
    database: () => core.database.check(),
  }),
  close: (core) => [
    // The published markers still owed (a lost one only lets a redelivery publish its event again, same id).
    ['published markers', () => core.batchStore.flushMarkers()],
    ['database', () => core.database.close()],
  ],
})
