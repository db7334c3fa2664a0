/** @flotilla/sdk — what a monolith imports: typed publisher, transactional outbox on PostgreSQL, auth client. */

export type { AuthClient, AuthClientOptions } from './auth-client.ts'
export { createAuthClient } from './auth-client.ts'
export type { FlotillaConfig } from './config.ts'
export {
  DEV_SERVICE_TOKEN_SECRET,
  FlotillaConfigError,
  FlotillaConfigSchema,
  loadFlotillaConfig,
} from './config.ts'
export type { StreamConnection } from './connect.ts'
export { connectStream } from './connect.ts'
export type { OutboxWriter } from './outbox/enqueue.ts'
export { enqueue } from './outbox/enqueue.ts'
export type { MigrateOutboxOptions } from './outbox/migrate.ts'
export { migrateOutbox, OUTBOX_MIGRATIONS_FOLDER } from './outbox/migrate.ts'
export type {
  OutboxRelay,
  OutboxRelayHooks,
  OutboxRelayOptions,
  OutboxRelayStatus,
  OutboxStats,
} from './outbox/relay.ts'
export { createOutboxRelay } from './outbox/relay.ts'
export type { OutboxRow } from './outbox/schema.ts'
export { flotillaOutbox, OUTBOX_CHANNEL, OUTBOX_TABLE } from './outbox/schema.ts'
export type {
  BuildEvent,
  EmitEvent,
  EmitKnownOptions,
  EmitOptions,
  EventPublisher,
  EventPublisherOptions,
  Published,
} from './publisher.ts'
export { createEventPublisher } from './publisher.ts'
export type { BreakerState, ResilienceOptions, ResilientFetch } from './resilient-fetch.ts'
export { createResilientFetch, ServiceUnavailableError } from './resilient-fetch.ts'
export { createServiceTokens } from './service-tokens.ts'
export type { ServiceTreatyOptions } from './service-treaty.ts'
export { createServiceTreaty } from './service-treaty.ts'
export type { TraceContext } from './trace.ts'
export { continueTrace } from './trace.ts'
