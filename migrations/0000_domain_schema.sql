CREATE TYPE "public"."edge_override" AS ENUM('none', 'force-up', 'force-down', 'drain');--> statement-breakpoint
CREATE TYPE "public"."edge_state" AS ENUM('active', 'draining', 'maintenance', 'down');--> statement-breakpoint
CREATE TYPE "public"."match_kind" AS ENUM('cidr', 'asn', 'country', 'continent');--> statement-breakpoint
CREATE TYPE "public"."playbook_mode" AS ENUM('auto', 'approve', 'dry-run');--> statement-breakpoint
CREATE TYPE "public"."prefix_kind" AS ENUM('unicast', 'anycast');--> statement-breakpoint
CREATE TYPE "public"."record_type" AS ENUM('A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA', 'NS', 'PTR');--> statement-breakpoint
CREATE TYPE "public"."slo_metric" AS ENUM('utilisation', 'latency', 'error-rate', 'loss');--> statement-breakpoint
CREATE TYPE "public"."token_role" AS ENUM('viewer', 'operator', 'admin', 'agent');--> statement-breakpoint
CREATE TABLE "actions" (
	"id" serial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"edge_id" integer,
	"prefix_id" integer,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"source" text NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"run_id" integer,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"reverted_at" timestamp with time zone,
	"reverted_by" text,
	CONSTRAINT "actions_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "actions_source" CHECK ("actions"."source" IN ('operator', 'automation')),
	CONSTRAINT "actions_reason" CHECK (length("actions"."reason") > 0)
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" "token_role" NOT NULL,
	"lookup" text NOT NULL,
	"hash" text NOT NULL,
	"scope" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_tokens_name_unique" UNIQUE("name"),
	CONSTRAINT "api_tokens_lookup_unique" UNIQUE("lookup")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text,
	"reason" text,
	"forced" boolean DEFAULT false NOT NULL,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
CREATE TABLE "consumers" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"snapshot_version" integer,
	"healthy" boolean NOT NULL,
	"load" jsonb,
	"details" jsonb,
	"reported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "edge_loads" (
	"edge_id" integer PRIMARY KEY NOT NULL,
	"rps" double precision NOT NULL,
	"reported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "edges" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"country" text NOT NULL,
	"continent" text NOT NULL,
	"region" text,
	"capacity_rps" double precision NOT NULL,
	"capacity_gbps" double precision,
	"state" "edge_state" DEFAULT 'active' NOT NULL,
	"override" "edge_override" DEFAULT 'none' NOT NULL,
	"dsr_address" "inet",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "edges_name_unique" UNIQUE("name"),
	CONSTRAINT "edges_lat" CHECK ("edges"."lat" BETWEEN -90 AND 90),
	CONSTRAINT "edges_lon" CHECK ("edges"."lon" BETWEEN -180 AND 180),
	CONSTRAINT "edges_capacity" CHECK ("edges"."capacity_rps" > 0),
	CONSTRAINT "edges_country" CHECK ("edges"."country" ~ '^[A-Z]{2}$')
);
--> statement-breakpoint
CREATE TABLE "playbook_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"playbook_id" integer NOT NULL,
	"edge_id" integer,
	"state" text NOT NULL,
	"current_step" integer DEFAULT 0 NOT NULL,
	"mode" "playbook_mode" NOT NULL,
	"trigger" jsonb NOT NULL,
	"plan" jsonb,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "playbooks" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"mode" "playbook_mode" DEFAULT 'auto' NOT NULL,
	"trigger" jsonb NOT NULL,
	"steps" jsonb NOT NULL,
	"cooldown" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "playbooks_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policies_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "policy_rule_edges" (
	"rule_id" integer NOT NULL,
	"position" integer NOT NULL,
	"edge_id" integer NOT NULL,
	CONSTRAINT "policy_rule_edges_rule_id_position_pk" PRIMARY KEY("rule_id","position")
);
--> statement-breakpoint
CREATE TABLE "policy_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"policy_id" integer NOT NULL,
	"position" integer NOT NULL,
	"kind" "match_kind" NOT NULL,
	"cidr" "cidr",
	"asn" bigint,
	"country" text,
	"continent" text,
	CONSTRAINT "policy_rules_one_match" CHECK (("policy_rules"."kind" = 'cidr' AND "policy_rules"."cidr" IS NOT NULL) OR ("policy_rules"."kind" = 'asn' AND "policy_rules"."asn" IS NOT NULL)
        OR ("policy_rules"."kind" = 'country' AND "policy_rules"."country" IS NOT NULL) OR ("policy_rules"."kind" = 'continent' AND "policy_rules"."continent" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "prefix_announcers" (
	"prefix_id" integer NOT NULL,
	"edge_id" integer NOT NULL,
	CONSTRAINT "prefix_announcers_prefix_id_edge_id_pk" PRIMARY KEY("prefix_id","edge_id")
);
--> statement-breakpoint
CREATE TABLE "prefixes" (
	"id" serial PRIMARY KEY NOT NULL,
	"cidr" "cidr" NOT NULL,
	"kind" "prefix_kind" NOT NULL,
	"edge_id" integer,
	"supernet_id" integer,
	"communities" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prefixes_cidr_unique" UNIQUE("cidr"),
	CONSTRAINT "prefixes_owner" CHECK (("prefixes"."kind" = 'unicast' AND "prefixes"."edge_id" IS NOT NULL) OR ("prefixes"."kind" = 'anycast' AND "prefixes"."edge_id" IS NULL AND "prefixes"."supernet_id" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "records" (
	"id" serial PRIMARY KEY NOT NULL,
	"zone_id" integer NOT NULL,
	"name" text NOT NULL,
	"type" "record_type" NOT NULL,
	"ttl" integer,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "records_ttl" CHECK ("records"."ttl" IS NULL OR "records"."ttl" >= 0)
);
--> statement-breakpoint
CREATE TABLE "run_steps" (
	"id" serial PRIMARY KEY NOT NULL,
	"run_id" integer NOT NULL,
	"position" integer NOT NULL,
	"stage" integer DEFAULT 0 NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"params" jsonb NOT NULL,
	"predicted" jsonb,
	"observed" jsonb,
	"refusal" jsonb,
	"action_id" integer,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "service_addresses" (
	"id" serial PRIMARY KEY NOT NULL,
	"service_id" integer NOT NULL,
	"edge_id" integer NOT NULL,
	"address" "inet" NOT NULL,
	CONSTRAINT "service_addresses_host" CHECK (masklen("service_addresses"."address") = CASE family("service_addresses"."address") WHEN 4 THEN 32 ELSE 128 END)
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"zone_id" integer NOT NULL,
	"ttl" integer DEFAULT 30 NOT NULL,
	"policy_id" integer,
	"anycast_v4" "inet",
	"anycast_v6" "inet",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "services_name_unique" UNIQUE("name"),
	CONSTRAINT "services_anycast_v4" CHECK ("services"."anycast_v4" IS NULL OR family("services"."anycast_v4") = 4),
	CONSTRAINT "services_anycast_v6" CHECK ("services"."anycast_v6" IS NULL OR family("services"."anycast_v6") = 6)
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"values" jsonb NOT NULL,
	CONSTRAINT "settings_singleton" CHECK ("settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "signals" (
	"id" serial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"fingerprint" text NOT NULL,
	"name" text NOT NULL,
	"edge_id" integer,
	"slo" text,
	"severity" text,
	"status" text NOT NULL,
	"labels" jsonb NOT NULL,
	"value" double precision,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "signals_status" CHECK ("signals"."status" IN ('firing', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "slos" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"edge_id" integer,
	"metric" "slo_metric" NOT NULL,
	"enter_threshold" double precision NOT NULL,
	"exit_threshold" double precision NOT NULL,
	"window" text NOT NULL,
	"query" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "slos_name_unique" UNIQUE("name"),
	CONSTRAINT "slos_hysteresis" CHECK ("slos"."exit_threshold" <= "slos"."enter_threshold")
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"version" integer PRIMARY KEY NOT NULL,
	"checksum" text NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transits" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"asn" bigint NOT NULL,
	"intents" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transits_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "zones" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"ttl" integer DEFAULT 3600 NOT NULL,
	"soa" jsonb NOT NULL,
	"ns" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "zones_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_prefix_id_prefixes_id_fk" FOREIGN KEY ("prefix_id") REFERENCES "public"."prefixes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_run_id_playbook_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."playbook_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edge_loads" ADD CONSTRAINT "edge_loads_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "playbook_runs" ADD CONSTRAINT "playbook_runs_playbook_id_playbooks_id_fk" FOREIGN KEY ("playbook_id") REFERENCES "public"."playbooks"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "playbook_runs" ADD CONSTRAINT "playbook_runs_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_rule_edges" ADD CONSTRAINT "policy_rule_edges_rule_id_policy_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."policy_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_rule_edges" ADD CONSTRAINT "policy_rule_edges_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_rules" ADD CONSTRAINT "policy_rules_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prefix_announcers" ADD CONSTRAINT "prefix_announcers_prefix_id_prefixes_id_fk" FOREIGN KEY ("prefix_id") REFERENCES "public"."prefixes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prefix_announcers" ADD CONSTRAINT "prefix_announcers_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prefixes" ADD CONSTRAINT "prefixes_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "records" ADD CONSTRAINT "records_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_run_id_playbook_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."playbook_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_addresses" ADD CONSTRAINT "service_addresses_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_addresses" ADD CONSTRAINT "service_addresses_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "signals" ADD CONSTRAINT "signals_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slos" ADD CONSTRAINT "slos_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "actions_active" ON "actions" USING btree ("reverted_at","expires_at");--> statement-breakpoint
CREATE INDEX "audit_log_at" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_object" ON "audit_log" USING btree ("object_type","object_id");--> statement-breakpoint
CREATE INDEX "playbook_runs_state" ON "playbook_runs" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "policy_rules_position" ON "policy_rules" USING btree ("policy_id","position");--> statement-breakpoint
CREATE INDEX "prefixes_edge" ON "prefixes" USING btree ("edge_id");--> statement-breakpoint
CREATE UNIQUE INDEX "records_unique" ON "records" USING btree ("zone_id","name","type","value");--> statement-breakpoint
CREATE UNIQUE INDEX "run_steps_unique" ON "run_steps" USING btree ("run_id","position","stage");--> statement-breakpoint
CREATE UNIQUE INDEX "service_addresses_unique" ON "service_addresses" USING btree ("service_id","edge_id","address");--> statement-breakpoint
CREATE UNIQUE INDEX "signals_identity" ON "signals" USING btree ("source","fingerprint","starts_at");