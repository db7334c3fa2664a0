/** Builds the monolith's dependencies from its config (database, publisher, auth client, relay). */
import {
  connectStream,
  createAuthClient,
  createEventPublisher,
  createOutboxRelay,
  createServiceTokens,
  type OutboxRelay,
} from '@flotilla/sdk'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres, { type Sql } from 'postgres'
import type { MonolithDeps } from './app.ts'
import { createAuthGateway } from './auth-client.ts'
import type { MonolithConfig } from './config.ts'

const log = (level: string, msg: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }))

export interface BuiltDeps extends MonolithDeps {
  /** The postgres-js client (migrations). */
  readonly sql: Sql
  close(): Promise<void>
}

/** Opens the connections; `close()` ends them (relay first, so its last batch commits). Safe to call twice. */
export const buildDeps = (config: MonolithConfig, options: { relay: boolean }): BuiltDeps => {
  const sql = postgres(config.DATABASE_URL, {
    max: 10,
    onnotice: () => {},
    connection: { search_path: config.DATABASE_SCHEMA },
  })
  const { publisher, close: closeStream } = connectStream({
    redisUrl: config.REDIS_URL,
    cluster: config.REDIS_CLUSTER,
    stream: config.EVENTS_STREAM,
  })
  const events = createEventPublisher({ publisher, source: config.SERVICE_NAME })
  const auth = createAuthGateway(
    createAuthClient({ baseUrl: config.AUTH_URL, signer: createServiceTokens(config) }),
  )
  const relay: OutboxRelay | undefined = options.relay
    ? createOutboxRelay({
        sql,
        publisher,
        pollIntervalMs: config.OUTBOX_POLL_MS,
        hooks: {
          // JSON log lines; a real app would also count these (pending rows, failed rows) in its metrics.
          onError: (error) =>
            log('warn', 'outbox batch failed; retrying with backoff', { error: String(error) }),
          onRowFailed: (eventId, message) =>
            log('error', 'outbox row breaks the contract', { eventId, message }),
        },
      })
    : undefined
  let closed: Promise<void> | undefined
  return {
    db: drizzle({ client: sql }),
    events,
    auth,
    passwordChangedVersion: config.PASSWORD_CHANGED_VERSION,
    ...(relay ? { relay } : {}),
    sql,
    close() {
      closed ??= (async () => {
        await relay?.close().catch(() => {})
        await closeStream()
        await sql.end({ timeout: 5 }).catch(() => {})
      })()
      return closed
    },
  }
}
