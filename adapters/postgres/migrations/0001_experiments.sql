CREATE TABLE "experiment_counters" (
	"experiment_id" text NOT NULL,
	"arm" text NOT NULL,
	"name" text NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "experiment_counters_experiment_id_arm_name_pk" PRIMARY KEY("experiment_id","arm","name")
);
--> statement-breakpoint
CREATE TABLE "experiment_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"experiment_id" text NOT NULL,
	"at" bigint NOT NULL,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"details" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "value" double precision;--> statement-breakpoint
ALTER TABLE "experiments" ADD COLUMN "status" text DEFAULT 'running' NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments" ADD COLUMN "started_at" bigint;--> statement-breakpoint
ALTER TABLE "experiments" ADD COLUMN "stopped_at" bigint;--> statement-breakpoint
CREATE INDEX "experiment_log_experiment_idx" ON "experiment_log" USING btree ("experiment_id");