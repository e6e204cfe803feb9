CREATE TABLE `counters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`label` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `counters_name_label_bucket_unique` ON `counters` (`name`,`label`,`bucket_start`);--> statement-breakpoint
CREATE INDEX `counters_bucket_start_idx` ON `counters` (`bucket_start`);