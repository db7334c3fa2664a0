/**
 * Schema of the libSQL audit store, as migrations for the kit's `migrate`. Append-only is enforced by the
 * database itself: triggers abort every UPDATE, and every DELETE unless a pruning transaction has set the
 * retention-mode row and anchored the chain at or past the deleted seq. The first step keeps `IF NOT EXISTS`:
 * databases created before migrations were recorded already hold it, and only record it.
 */
import type { Migration } from '@flotilla/service-kit'

export const NO_INSERT_BELOW_ANCHOR_TRIGGER = 'audit_records_no_insert_below_anchor'

/**
 * Refuses a seq at or below its chain's anchor. It can match nothing before the first anchor (seq >= 1 is a
 * CHECK) yet costs every INSERT, so retention creates it in the transaction that writes the first anchor,
 * and no anchor can be written without it (below).
 */
export const CREATE_NO_INSERT_BELOW_ANCHOR = `CREATE TRIGGER IF NOT EXISTS ${NO_INSERT_BELOW_ANCHOR_TRIGGER} BEFORE INSERT ON audit_records
        WHEN NEW.seq <= COALESCE((SELECT seq FROM audit_anchors WHERE chain = NEW.chain), 0)
        BEGIN SELECT RAISE(ABORT, 'audit_records: seq already pruned'); END`

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    name: 'records, anchors, retention mode, pruned events, chains, append-only triggers',
    statements: [
      `CREATE TABLE IF NOT EXISTS audit_records (
          event_id TEXT PRIMARY KEY NOT NULL,
          chain TEXT NOT NULL,
          seq INTEGER NOT NULL,
          type TEXT NOT NULL,
          version INTEGER NOT NULL,
          action TEXT NOT NULL,
          tenant_id TEXT,
          actor_type TEXT,
          actor_id TEXT,
          subject_type TEXT,
          subject_id TEXT,
          source TEXT NOT NULL,
          occurred_at TEXT NOT NULL,
          occurred_ms INTEGER NOT NULL,
          received_at TEXT NOT NULL,
          correlation_id TEXT,
          causation_id TEXT,
          payload TEXT NOT NULL,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL,
          CHECK (seq >= 1)
        )`,
      'CREATE UNIQUE INDEX IF NOT EXISTS audit_records_chain_seq ON audit_records (chain, seq)',
      'CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (occurred_ms, event_id)',
      'CREATE INDEX IF NOT EXISTS audit_records_tenant_time ON audit_records (tenant_id, occurred_ms, event_id)',
      'CREATE INDEX IF NOT EXISTS audit_records_actor_time ON audit_records (actor_id, occurred_ms)',
      'CREATE INDEX IF NOT EXISTS audit_records_type_time ON audit_records (type, occurred_ms)',
      'CREATE INDEX IF NOT EXISTS audit_records_subject_time ON audit_records (subject_id, occurred_ms)',
      'CREATE INDEX IF NOT EXISTS audit_records_correlation ON audit_records (correlation_id)',
      'CREATE INDEX IF NOT EXISTS audit_records_chain_received ON audit_records (chain, received_at)',
      `CREATE TABLE IF NOT EXISTS audit_anchors (
          chain TEXT PRIMARY KEY NOT NULL,
          seq INTEGER NOT NULL,
          hash TEXT NOT NULL,
          pruned_at TEXT NOT NULL
        )`,
      'CREATE TABLE IF NOT EXISTS audit_retention_mode (id INTEGER PRIMARY KEY CHECK (id = 1))',
      // Ids of pruned events: a replay of an event whose record retention deleted must not record it again.
      'CREATE TABLE IF NOT EXISTS audit_pruned_events (event_id TEXT PRIMARY KEY NOT NULL, chain TEXT NOT NULL, pruned_at TEXT NOT NULL)',
      // Every chain ever written, so listing chains never scans the records.
      'CREATE TABLE IF NOT EXISTS audit_chains (chain TEXT PRIMARY KEY NOT NULL)',
      `INSERT OR IGNORE INTO audit_chains (chain)
          SELECT DISTINCT chain FROM audit_records WHERE NOT EXISTS (SELECT 1 FROM audit_chains)`,
      `CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
        BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: UPDATE refused'); END`,
      `CREATE TRIGGER IF NOT EXISTS audit_records_delete_only_by_retention BEFORE DELETE ON audit_records
        WHEN NOT EXISTS (SELECT 1 FROM audit_retention_mode)
          OR OLD.seq > COALESCE((SELECT seq FROM audit_anchors WHERE chain = OLD.chain), 0)
        BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE only through retention'); END`,
      CREATE_NO_INSERT_BELOW_ANCHOR,
      `CREATE TRIGGER IF NOT EXISTS audit_anchors_insert_only_by_retention BEFORE INSERT ON audit_anchors
        WHEN NOT EXISTS (SELECT 1 FROM audit_retention_mode)
        BEGIN SELECT RAISE(ABORT, 'audit_anchors: written only through retention'); END`,
      `CREATE TRIGGER IF NOT EXISTS audit_anchors_update_forward_only BEFORE UPDATE ON audit_anchors
        WHEN NOT EXISTS (SELECT 1 FROM audit_retention_mode) OR NEW.seq <= OLD.seq OR NEW.chain <> OLD.chain
        BEGIN SELECT RAISE(ABORT, 'audit_anchors: moves forward only, through retention'); END`,
      `CREATE TRIGGER IF NOT EXISTS audit_anchors_no_delete BEFORE DELETE ON audit_anchors
        BEGIN SELECT RAISE(ABORT, 'audit_anchors: DELETE refused'); END`,
    ],
  },
  {
    name: 'anchors written only where the trigger refusing a seq below them exists',
    statements: [
      'DROP TRIGGER audit_anchors_insert_only_by_retention',
      `CREATE TRIGGER audit_anchors_insert_only_by_retention BEFORE INSERT ON audit_anchors
        WHEN NOT EXISTS (SELECT 1 FROM audit_retention_mode)
          OR NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = '${NO_INSERT_BELOW_ANCHOR_TRIGGER}')
        BEGIN SELECT RAISE(ABORT, 'audit_anchors: written only through retention'); END`,
    ],
  },
  {
    // Where an anchor exists the trigger stays; retention creates it again with the first anchor (store.ts).
    name: 'no trigger refusing a seq below an anchor until there is an anchor',
    when: 'SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM audit_anchors)',
    statements: [`DROP TRIGGER IF EXISTS ${NO_INSERT_BELOW_ANCHOR_TRIGGER}`],
  },
]
