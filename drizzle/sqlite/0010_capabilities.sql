CREATE TABLE `wxacodes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app_id` text NOT NULL,
	`kind` text NOT NULL,
	`params_hash` text NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`content_type` text,
	`image` blob,
	`created_at` integer NOT NULL,
	`generated_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `wxacodes_app_kind_params_unique` ON `wxacodes` (`app_id`,`kind`,`params_hash`);--> statement-breakpoint
CREATE INDEX `wxacodes_app_generated_idx` ON `wxacodes` (`app_id`,`generated_at`);