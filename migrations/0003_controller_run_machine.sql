ALTER TABLE "playbook_runs" ADD COLUMN "machine" jsonb;--> statement-breakpoint
ALTER TABLE "run_steps" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "run_steps" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "playbook_runs_one_open" ON "playbook_runs" USING btree ("playbook_id","edge_id") WHERE "playbook_runs"."ended_at" IS NULL;--> statement-breakpoint
-- Wake the controller at once when a signal arrives or changes, or an operator decides on a
-- pending stage: it reacts within milliseconds instead of at its next scheduled tick.
CREATE FUNCTION catchment_wake_controller() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('catchment_controller', TG_TABLE_NAME);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER signals_wake_controller AFTER INSERT OR UPDATE OF status ON "signals" FOR EACH ROW EXECUTE FUNCTION catchment_wake_controller();
--> statement-breakpoint
CREATE TRIGGER run_steps_wake_controller AFTER UPDATE OF state ON "run_steps" FOR EACH ROW WHEN (NEW.state IN ('approved', 'rejected')) EXECUTE FUNCTION catchment_wake_controller();
