CREATE TABLE `authorizers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app` text NOT NULL,
	`authorizer_appid` text NOT NULL,
	`status` text NOT NULL,
	`nick_name` text,
	`user_name` text,
	`func_info` text NOT NULL,
	`authorized_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `authorizers_app_appid_unique` ON `authorizers` (`app`,`authorizer_appid`);--> statement-breakpoint
CREATE INDEX `authorizers_app_status_appid_idx` ON `authorizers` (`app`,`status`,`authorizer_appid`);