CREATE TABLE "flotilla_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "flotilla_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"type" text NOT NULL,
	"event" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"failed_at" timestamp with time zone,
	CONSTRAINT "flotilla_outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE INDEX "flotilla_outbox_pending_idx" ON "flotilla_outbox" USING btree ("id") WHERE "flotilla_outbox"."sent_at" is null and "flotilla_outbox"."failed_at" is null;--> statement-breakpoint
CREATE INDEX "flotilla_outbox_sent_at_idx" ON "flotilla_outbox" USING btree ("sent_at") WHERE "flotilla_outbox"."sent_at" is not null;