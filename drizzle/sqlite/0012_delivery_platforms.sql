CREATE TABLE `platform_merchants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app` text NOT NULL,
	`platform` text NOT NULL,
	`merchant` text NOT NULL,
	`status` text NOT NULL,
	`authorized_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `platform_merchants_app_merchant_unique` ON `platform_merchants` (`app`,`merchant`);--> statement-breakpoint
CREATE INDEX `platform_merchants_app_status_idx` ON `platform_merchants` (`app`,`status`);--> statement-breakpoint
ALTER TABLE `apps` ADD `dev_id` text;