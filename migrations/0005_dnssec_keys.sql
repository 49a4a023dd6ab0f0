CREATE TABLE "dnssec_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"zone" text NOT NULL,
	"role" text NOT NULL,
	"algorithm" integer NOT NULL,
	"flags" integer NOT NULL,
	"key_tag" integer NOT NULL,
	"public_key" text NOT NULL,
	"private_key" text NOT NULL,
	"state" text NOT NULL,
	"ds" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dnssec_keys_role" CHECK ("dnssec_keys"."role" IN ('ksk', 'zsk', 'csk')),
	CONSTRAINT "dnssec_keys_state" CHECK ("dnssec_keys"."state" IN ('published', 'active', 'retired', 'removed')),
	CONSTRAINT "dnssec_keys_algorithm" CHECK ("dnssec_keys"."algorithm" IN (13, 15))
);
--> statement-breakpoint
CREATE TABLE "dnssec_rollovers" (
	"id" serial PRIMARY KEY NOT NULL,
	"zone" text NOT NULL,
	"kind" text NOT NULL,
	"step" text NOT NULL,
	"old_key_id" integer,
	"new_key_id" integer,
	"next_step_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "dnssec_rollovers_kind" CHECK ("dnssec_rollovers"."kind" IN ('zsk', 'ksk'))
);
--> statement-breakpoint
ALTER TABLE "zones" ADD COLUMN "dnssec" jsonb;--> statement-breakpoint
ALTER TABLE "dnssec_rollovers" ADD CONSTRAINT "dnssec_rollovers_old_key_id_dnssec_keys_id_fk" FOREIGN KEY ("old_key_id") REFERENCES "public"."dnssec_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dnssec_rollovers" ADD CONSTRAINT "dnssec_rollovers_new_key_id_dnssec_keys_id_fk" FOREIGN KEY ("new_key_id") REFERENCES "public"."dnssec_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dnssec_keys_zone" ON "dnssec_keys" USING btree ("zone");--> statement-breakpoint
CREATE UNIQUE INDEX "dnssec_rollovers_open" ON "dnssec_rollovers" USING btree ("zone","kind") WHERE "dnssec_rollovers"."finished_at" IS NULL;