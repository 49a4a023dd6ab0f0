ALTER TABLE "edges" ADD COLUMN "dsr_encap" text DEFAULT 'ipip' NOT NULL;--> statement-breakpoint
ALTER TABLE "edges" ADD COLUMN "dsr_gue_port" integer;--> statement-breakpoint
ALTER TABLE "edges" ADD COLUMN "dsr_client_prefixes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "edges" ADD CONSTRAINT "edges_dsr_encap" CHECK ("edges"."dsr_encap" IN ('ipip', 'gue'));--> statement-breakpoint
ALTER TABLE "edges" ADD CONSTRAINT "edges_dsr_gue_port" CHECK ("edges"."dsr_gue_port" BETWEEN 1 AND 65535);--> statement-breakpoint
ALTER TABLE "edges" ADD CONSTRAINT "edges_dsr_client_prefixes" CHECK (jsonb_typeof("edges"."dsr_client_prefixes") = 'array');