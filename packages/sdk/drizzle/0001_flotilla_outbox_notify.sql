-- Wake relays at once: one notification per inserting statement, delivered at commit (none on rollback).
-- The payload is the table's schema, so relays of other schemas sharing the database ignore it.
CREATE OR REPLACE FUNCTION flotilla_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('flotilla_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER flotilla_outbox_notify AFTER INSERT ON flotilla_outbox FOR EACH STATEMENT EXECUTE FUNCTION flotilla_outbox_notify();
