CREATE TABLE `counters` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`name` varchar(48) NOT NULL,
	`label` varchar(48) NOT NULL,
	`bucket_start` bigint NOT NULL,
	`count` bigint NOT NULL,
	CONSTRAINT `counters_id` PRIMARY KEY(`id`),
	CONSTRAINT `counters_name_label_bucket_unique` UNIQUE(`name`,`label`,`bucket_start`)
);
--> statement-breakpoint
CREATE INDEX `counters_bucket_start_idx` ON `counters` (`bucket_start`);