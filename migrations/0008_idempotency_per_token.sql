ALTER TABLE "actions" DROP CONSTRAINT "actions_idempotency_key_unique";--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "idempotency_token_id" integer;--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "idempotency_response" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "actions_idempotency" ON "actions" USING btree (coalesce("idempotency_token_id", 0),"idempotency_key") WHERE "actions"."idempotency_key" IS NOT NULL;