/**
 * Schema of the PostgreSQL audit store, as migrations run by `migratePostgres` (migrate.ts). Append-only is
 * enforced by the database, as the libSQL twin does with its triggers: PL/pgSQL triggers refuse every UPDATE
 * and TRUNCATE of the records, every DELETE unless the transaction is in retention mode (a transaction-local
 * setting only the pruning transaction sets) and the chain is anchored at or past every deleted seq, and any
 * insert of a seq already pruned. Anchors are written only in retention mode and only move forward.
 *
 * Triggers stop mistakes and any write that skips the retention path. Against a database user bent on
 * rewriting history, privileges do the rest: serve with a role that does not own these tables (an owner can
 * disable triggers) and has only SELECT and INSERT, plus DELETE on audit_records for retention
 * (apps/audit/README.md, "PostgreSQL").
 */
import type { Migration } from '@flotilla/service-kit'

/** The transaction-local setting that marks the retention path (`set_config(…, 'on', true)`). */
export const RETENTION_SETTING = 'flotilla_audit.retention'

const inRetention = `coalesce(current_setting('${RETENTION_SETTING}', true), '') = 'on'`

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: 'records, anchors, pruned events, chains, append-only triggers',
    statements: [
      `CREATE TABLE audit_records (
          event_id text PRIMARY KEY,
          chain text NOT NULL,
          seq bigint NOT NULL CHECK (seq >= 1),
          type text NOT NULL,
          version integer NOT NULL,
          action text NOT NULL,
          tenant_id text,
          actor_type text,
          actor_id text,
          subject_type text,
          subject_id text,
          source text NOT NULL,
          occurred_at text NOT NULL,
          occurred_ms bigint NOT NULL,
          received_at text NOT NULL,
          correlation_id text,
          causation_id text,
          payload json NOT NULL,
          prev_hash text NOT NULL,
          hash text NOT NULL
        )`,
      'CREATE UNIQUE INDEX audit_records_chain_seq ON audit_records (chain, seq)',
      'CREATE INDEX audit_records_time ON audit_records (occurred_ms, event_id)',
      'CREATE INDEX audit_records_tenant_time ON audit_records (tenant_id, occurred_ms, event_id)',
      'CREATE INDEX audit_records_actor_time ON audit_records (actor_id, occurred_ms)',
      'CREATE INDEX audit_records_type_time ON audit_records (type, occurred_ms)',
      'CREATE INDEX audit_records_subject_time ON audit_records (subject_id, occurred_ms)',
      'CREATE INDEX audit_records_correlation ON audit_records (correlation_id)',
      'CREATE INDEX audit_records_chain_received ON audit_records (chain, received_at)',
      `CREATE TABLE audit_anchors (
          chain text PRIMARY KEY,
          seq bigint NOT NULL,
          hash text NOT NULL,
          pruned_at text NOT NULL
        )`,
      // Ids of pruned events: a replay of an event whose record retention deleted must not record it again.
      'CREATE TABLE audit_pruned_events (event_id text PRIMARY KEY, chain text NOT NULL, pruned_at text NOT NULL)',
      // Every chain ever written, so listing chains never scans the records.
      'CREATE TABLE audit_chains (chain text PRIMARY KEY)',

      // One function refuses, with the message its trigger passes.
      `CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'insufficient_privilege'; END $$`,
      `CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_records is append-only: UPDATE refused')`,
      `CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_records is append-only: TRUNCATE refused')`,
      // Statement-level with transition tables: one check per batch, not one lookup per row. `SET search_path
      // FROM CURRENT` pins the tables the function reads to the schema it was created in.
      `CREATE FUNCTION audit_records_check_delete() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM deleted) AND (NOT (${inRetention}) OR EXISTS (
              SELECT 1 FROM deleted d LEFT JOIN audit_anchors a ON a.chain = d.chain
              WHERE d.seq > coalesce(a.seq, 0))) THEN
            RAISE EXCEPTION 'audit_records is append-only: DELETE only through retention'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER audit_records_delete_only_by_retention AFTER DELETE ON audit_records
        REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION audit_records_check_delete()`,
      `CREATE FUNCTION audit_records_check_insert() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM inserted i JOIN audit_anchors a ON a.chain = i.chain WHERE i.seq <= a.seq) THEN
            RAISE EXCEPTION 'audit_records: seq already pruned' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER audit_records_no_insert_below_anchor AFTER INSERT ON audit_records
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_records_check_insert()`,
      `CREATE FUNCTION audit_anchors_check_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NOT (${inRetention}) THEN
            RAISE EXCEPTION 'audit_anchors: written only through retention' USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF TG_OP = 'UPDATE' AND (NEW.seq <= OLD.seq OR NEW.chain <> OLD.chain) THEN
            RAISE EXCEPTION 'audit_anchors: moves forward only, through retention'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$`,
      `CREATE TRIGGER audit_anchors_write_only_by_retention BEFORE INSERT OR UPDATE ON audit_anchors
        FOR EACH ROW EXECUTE FUNCTION audit_anchors_check_write()`,
      `CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE OR TRUNCATE ON audit_anchors
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_anchors: DELETE refused')`,
      // Deleting a pruned id would let a replay of that event come back as a new record.
      `CREATE TRIGGER audit_pruned_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_pruned_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_pruned_events is append-only')`,
    ],
  },
]
