/** The auth service, declared: sessions, devices and token checks over Redis; revokes sessions on user events. */
import { defineService } from '@flotilla/service-kit'
import { createApp } from './app.ts'
import { loadAuthConfig, settingsOf } from './config.ts'
import { buildCore, COMMAND_CONNECTION_OPTIONS } from './deps.ts'
import { authHandlers } from './handlers/index.ts'
import { createAuthMetrics } from './metrics.ts'

export const VERSION = '0.1.0'

export const authService = defineService({
  name: 'auth',
  version: VERSION,
  config: loadAuthConfig,
  commandConnection: COMMAND_CONNECTION_OPTIONS,
  async build({ config, redis, publisher, logger, metrics, revocations }) {
    const settings = settingsOf(config)
    const core = await buildCore({
      redis,
      settings,
      stream: config.EVENTS_STREAM,
      revocations,
      events: publisher,
      logger,
      observer: createAuthMetrics(metrics.registry),
    })
    await core.keyRing.ensure()
    // A key retired by another instance: stop signing with it now, not at the next check.
    revocations.onKeysRetired(() => {
      core.keyRing
        .refresh(0)
        .catch((error: unknown) => logger.error({ err: error }, 'key ring reload failed'))
    })
    revocations.start()
    // Every instance reloads the ring on its own (a rotation by another instance shows within one interval).
    const keyTimer = setInterval(() => {
      core.keyRing.ensure().catch((error: unknown) => logger.error({ err: error }, 'key ring check failed'))
    }, settings.keyCheckIntervalSeconds * 1000)
    return { core, settings, keyTimer, trustedProxyHeader: config.AUTH_TRUSTED_PROXY_HEADER }
  },
  app: ({ core, trustedProxyHeader }, http) =>
    createApp({ core, http, ...(trustedProxyHeader ? { trustedProxyHeader } : {}) }),
  subscription: ({ core, settings }, { redis, publisher, logger }) => ({
    events: authHandlers({
      redis,
      prefix: settings.redisPrefix,
      sessions: core.sessionStore,
      devices: core.devices,
      events: publisher,
      outbox: core.outbox,
      logger,
      observer: core.observer,
      revocations: core.revocationWriter,
    }),
  }),
  // Facts the request path could not publish (the stream write failed, the process died) leave the outbox here.
  jobs: ({ core, settings }) => ({
    keyPrefix: settings.redisPrefix,
    list: [{ name: 'facts-relay', everyMs: 10_000, run: () => core.outbox.relayOnce() }],
  }),
  readiness: ({ core }) => ({
    signingKey: async () => {
      await core.keyRing.signingKey()
    },
  }),
  close: ({ keyTimer }) => [['key timer', () => clearInterval(keyTimer)]],
})
