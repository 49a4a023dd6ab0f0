CREATE TABLE "edge_load_history" (
	"edge_id" integer NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"samples" integer NOT NULL,
	"rps_sum" double precision NOT NULL,
	"rps_max" double precision NOT NULL,
	CONSTRAINT "edge_load_history_edge_id_minute_pk" PRIMARY KEY("edge_id","minute")
);
--> statement-breakpoint
ALTER TABLE "edge_load_history" ADD CONSTRAINT "edge_load_history_edge_id_edges_id_fk" FOREIGN KEY ("edge_id") REFERENCES "public"."edges"("id") ON DELETE cascade ON UPDATE no action;