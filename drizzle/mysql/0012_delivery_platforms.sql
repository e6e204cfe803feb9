CREATE TABLE `platform_merchants` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`platform` varchar(16) NOT NULL,
	`merchant` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`authorized_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `platform_merchants_id` PRIMARY KEY(`id`),
	CONSTRAINT `platform_merchants_app_merchant_unique` UNIQUE(`app`,`merchant`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `dev_id` varchar(64);--> statement-breakpoint
CREATE INDEX `platform_merchants_app_status_idx` ON `platform_merchants` (`app`,`status`);