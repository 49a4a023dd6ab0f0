ALTER TABLE "playbook_runs" DROP CONSTRAINT "playbook_runs_playbook_id_playbooks_id_fk";
--> statement-breakpoint
ALTER TABLE "playbook_runs" ALTER COLUMN "playbook_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "playbook_runs" ADD CONSTRAINT "playbook_runs_playbook_id_playbooks_id_fk" FOREIGN KEY ("playbook_id") REFERENCES "public"."playbooks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
-- Runs started before the origin carried the playbook's name get it now, while the playbook still exists.
UPDATE "playbook_runs" AS r SET "trigger" = r."trigger" || jsonb_build_object('playbook', p."name") FROM "playbooks" AS p WHERE p."id" = r."playbook_id" AND jsonb_typeof(r."trigger") = 'object' AND NOT (r."trigger" ? 'playbook');
