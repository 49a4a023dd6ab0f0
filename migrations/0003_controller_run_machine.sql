ALTER TABLE "playbook_runs" ADD COLUMN "machine" jsonb;--> statement-breakpoint
ALTER TABLE "run_steps" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "run_steps" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "playbook_runs_one_open" ON "playbook_runs" USING btree ("playbook_id","edge_id") WHERE "playbook_runs"."ended_at" IS NULL;