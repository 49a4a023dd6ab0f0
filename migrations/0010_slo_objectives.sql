CREATE TABLE "slo_budgets" (
	"slo_id" integer NOT NULL,
	"edge_id" integer NOT NULL,
	"budget_remaining" double precision,
	"windows" jsonb NOT NULL,
	"firing" jsonb NOT NULL,
	"evaluated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "slo_budgets_slo_id_edge_id_pk" PRIMARY KEY("slo_id","edge_id")
);
--> statement-breakpoint
ALTER TABLE "slos" ADD COLUMN "objective" jsonb;--> statement-breakpoint
ALTER TABLE "slo_budgets" ADD CONSTRAINT "slo_budgets_slo_id_slos_id_fk" FOREIGN KEY ("slo_id") REFERENCES "public"."slos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slo_budgets" ADD CONSTRAINT "slo_budgets_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;