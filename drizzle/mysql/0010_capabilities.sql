CREATE TABLE `wxacodes` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app_id` varchar(64) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`params_hash` varchar(64) NOT NULL,
	`lease_owner` varchar(128),
	`lease_until` bigint,
	`content_type` varchar(64),
	`image` mediumblob,
	`created_at` bigint NOT NULL,
	`generated_at` bigint,
	CONSTRAINT `wxacodes_id` PRIMARY KEY(`id`),
	CONSTRAINT `wxacodes_app_kind_params_unique` UNIQUE(`app_id`,`kind`,`params_hash`)
);
--> statement-breakpoint
CREATE INDEX `wxacodes_app_generated_idx` ON `wxacodes` (`app_id`,`generated_at`);