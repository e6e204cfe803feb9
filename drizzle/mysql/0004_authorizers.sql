CREATE TABLE `authorizers` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`authorizer_appid` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`nick_name` varchar(191),
	`user_name` varchar(64),
	`func_info` text NOT NULL,
	`authorized_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	`revoked_at` bigint,
	CONSTRAINT `authorizers_id` PRIMARY KEY(`id`),
	CONSTRAINT `authorizers_app_appid_unique` UNIQUE(`app`,`authorizer_appid`)
);
--> statement-breakpoint
CREATE INDEX `authorizers_app_status_appid_idx` ON `authorizers` (`app`,`status`,`authorizer_appid`);