/**
 * Hand-written SQL migrations, applied in order at start by the kit's `migrate` (drizzle-kit is not a dependency
 * here). Append new migrations; never edit, rename or reorder one that has shipped (its name is its identity).
 */
import type { Migration } from '@flotilla/service-kit'

/**
 * The predicate of the due-time index (`deliveries_waiting`): a delivery the poller may still move. A query uses
 * a partial index only when its WHERE repeats this predicate term for term (SQLite and PostgreSQL alike), so the
 * due query embeds this very text.
 */
export const WAITING = "due_at IS NOT NULL AND status IN ('scheduled', 'held', 'queued', 'sending')"

/**
 * The predicate of `deliveries_owed`: a delivery the poller drove (due_at set) that settled with an outcome event
 * not yet published (its publish failed). The stream's deliveries (no due_at) never enter it: a redelivery of
 * their event publishes what they owe.
 */
export const OWED =
  "due_at IS NOT NULL AND published_status IS NULL AND status IN ('sent', 'delivered', 'bounced', 'complained', 'failed', 'dead')"

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'delivery log, attempts, contacts, preferences, outbox, webhook receipts',
    statements: [
      `CREATE TABLE deliveries (
        id TEXT PRIMARY KEY NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        address TEXT,
        user_id TEXT NOT NULL,
        tenant_id TEXT,
        correlation_id TEXT,
        template TEXT NOT NULL,
        locale TEXT NOT NULL,
        category TEXT NOT NULL,
        critical INTEGER NOT NULL DEFAULT 0,
        content TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until INTEGER NOT NULL DEFAULT 0,
        provider TEXT,
        provider_message_id TEXT,
        error_code TEXT,
        error_message TEXT,
        published_status TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER,
        delivered_at INTEGER
      )`,
      'CREATE UNIQUE INDEX deliveries_key ON deliveries (event_id, channel, recipient)',
      'CREATE INDEX deliveries_user ON deliveries (user_id, created_at, id)',
      'CREATE INDEX deliveries_status ON deliveries (status, created_at, id)',
      'CREATE INDEX deliveries_created ON deliveries (created_at, id)',
      'CREATE INDEX deliveries_provider_message ON deliveries (provider, provider_message_id)',
      `CREATE TABLE delivery_attempts (
        delivery_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        PRIMARY KEY (delivery_id, attempt)
      )`,
      `CREATE TABLE contacts (
        user_id TEXT PRIMARY KEY NOT NULL,
        email TEXT,
        phone TEXT,
        locale TEXT,
        timezone TEXT,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE TABLE preferences (
        user_id TEXT NOT NULL,
        category TEXT NOT NULL,
        channel TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, category, channel)
      )`,
      `CREATE TABLE outbox (
        id TEXT PRIMARY KEY NOT NULL,
        idempotency_key TEXT NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT,
        body TEXT NOT NULL,
        html TEXT,
        created_at INTEGER NOT NULL
      )`,
      'CREATE UNIQUE INDEX outbox_idempotency ON outbox (idempotency_key)',
      'CREATE INDEX outbox_created ON outbox (created_at, id)',
      `CREATE TABLE webhook_receipts (
        id TEXT PRIMARY KEY NOT NULL,
        type TEXT NOT NULL,
        received_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    name: 'idempotency key generations: a replay after a permanent refusal sends under a new key',
    statements: [
      'ALTER TABLE deliveries ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE deliveries ADD COLUMN failure_kind TEXT',
    ],
  },
  {
    name: 'trace context of the triggering event, carried into the events a delivery publishes',
    statements: ['ALTER TABLE deliveries ADD COLUMN traceparent TEXT'],
  },
  {
    name: 'workflows: provider failover, throttle, schedule and cancel, quiet hours, digests',
    statements: [
      // Which provider each attempt went to (failover), and whether another than the first one sent it.
      'ALTER TABLE delivery_attempts ADD COLUMN provider TEXT',
      'ALTER TABLE deliveries ADD COLUMN failed_over INTEGER NOT NULL DEFAULT 0',
      // Set: the due-time poller drives the delivery (scheduled, held, digest windows), not the stream.
      'ALTER TABLE deliveries ADD COLUMN due_at INTEGER',
      // The request's idempotency key (its own, else the event id): what a cancel names.
      'ALTER TABLE deliveries ADD COLUMN request_key TEXT',
      // Digests: the group a delivery is collected in, the digest it went into, and its template data.
      'ALTER TABLE deliveries ADD COLUMN digest_key TEXT',
      'ALTER TABLE deliveries ADD COLUMN digest_id TEXT',
      'ALTER TABLE deliveries ADD COLUMN data TEXT',
      'CREATE INDEX deliveries_due ON deliveries (due_at) WHERE due_at IS NOT NULL',
      'CREATE INDEX deliveries_request_key ON deliveries (request_key)',
      'CREATE INDEX deliveries_digest ON deliveries (digest_key, digest_id) WHERE digest_key IS NOT NULL',
      // Quiet hours per recipient, local times `HH:MM[:SS]` in the contact's time zone.
      'ALTER TABLE contacts ADD COLUMN quiet_start TEXT',
      'ALTER TABLE contacts ADD COLUMN quiet_end TEXT',
    ],
  },
  {
    name: 'contact settings stamped with the time of what set them, so an older or redelivered event never undoes a newer one',
    statements: [
      'ALTER TABLE contacts ADD COLUMN timezone_at INTEGER',
      'ALTER TABLE contacts ADD COLUMN quiet_at INTEGER',
    ],
  },
  {
    name: 'the due-time index holds only deliveries still waiting, so settled ones no longer lengthen every poll',
    statements: [
      // A settled delivery keeps its due_at; in the old index every poll walked all of them (due_at <= now)
      // before reaching the waiting ones. A delivery leaves this one when it settles.
      'DROP INDEX deliveries_due',
      `CREATE INDEX deliveries_waiting ON deliveries (due_at) WHERE ${WAITING}`,
    ],
  },
  {
    name: 'poller-driven deliveries whose outcome event is still owed, for the poller to publish',
    statements: [`CREATE INDEX deliveries_owed ON deliveries (updated_at) WHERE ${OWED}`],
  },
  {
    name: 'cancelled requests: a cancel leaves a marker, so a delivery of the request recorded after it is recorded cancelled',
    statements: [
      `CREATE TABLE cancelled_requests (
        request_key TEXT PRIMARY KEY NOT NULL,
        cancelled_at INTEGER NOT NULL
      )`,
    ],
  },
]
