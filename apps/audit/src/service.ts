/** The audit service, declared: every event into an append-only, hash-chained log; checkpoint and retention jobs. */
import type { AnyEvent } from '@flotilla/contracts'
import { createAccessTokenVerifier, defineService } from '@flotilla/service-kit'
import { injectTraceparent } from '@flotilla/telemetry'
import { createApp } from './app.ts'
import { AUDIT_READ_SCOPE } from './auth/scope.ts'
import { createRedisAnchors } from './chain/checkpoints.ts'
import { loadAuditConfig } from './config.ts'
import { createRecordEventHandler } from './handlers/record-event.ts'
import { runCheckpoints } from './jobs/checkpoint.ts'
import { createAuditMetrics } from './metrics.ts'
import { runRetention } from './retention/service.ts'
import { openStore } from './store/open.ts'

export const VERSION = '0.1.0'

export const auditService = defineService({
  name: 'audit',
  version: VERSION,
  config: loadAuditConfig,
  async build({ config, redis, metrics, serviceVerifier, revocations, logger }) {
    const store = await openStore(config.store, logger)
    return {
      store,
      anchors: createRedisAnchors(redis, config.AUDIT_REDIS_PREFIX),
      auditMetrics: createAuditMetrics(metrics),
      auth: {
        serviceVerifier,
        accessTokenVerifier: createAccessTokenVerifier({
          jwksUrl: config.jwksUrl,
          issuer: config.AUTH_ISSUER,
          audience: config.AUTH_AUDIENCE,
          revocations,
        }),
        requiredScope: AUDIT_READ_SCOPE,
      },
    }
  },
  app: (deps, http, { config }) =>
    createApp({ ...deps, http, exportPageSize: config.AUDIT_EXPORT_PAGE_SIZE }),
  subscription: ({ store, auditMetrics }, { config }) => ({
    everyEvent: createRecordEventHandler({ store, onAppended: auditMetrics.appended }),
    consumer: { batchSize: config.AUDIT_BATCH_SIZE },
  }),
  jobs: ({ store, anchors, auditMetrics }, { config, publisher, logger }) => ({
    keyPrefix: config.AUDIT_REDIS_PREFIX,
    list: [
      {
        name: 'checkpoint',
        everyMs: config.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
        run: async () => {
          const publish = (event: AnyEvent) => publisher.publish(injectTraceparent(event))
          const published = await runCheckpoints({ store, anchors, publish })
          auditMetrics.checkpointed(published.length)
          if (published.length > 0) logger.info({ chains: published.length }, 'chain heads checkpointed')
          return published.length
        },
      },
      {
        name: 'retention',
        everyMs: config.AUDIT_RETENTION_INTERVAL_SECONDS * 1000,
        lockTtlMs: 5 * 60_000,
        run: async () => {
          const moved = await runRetention({ store, policy: config.retention, anchors })
          auditMetrics.pruned(moved.length)
          for (const a of moved)
            logger.info({ chain: a.chain, seq: a.seq }, 'records pruned up to the anchor')
          return moved.length
        },
      },
    ].filter((job) => job.everyMs > 0),
  }),
  readiness: ({ store }) => ({
    // PostgreSQL answers with the database it reached, or why it cannot (named, never the credentials).
    store: async () => (store.check ? store.check() : store.head('global')),
  }),
  close: ({ store }) => [['store', () => store.close()]],
})
