-- Reviewed: table options added by hand so MySQL 5.7 (latin1 default) stores emoji; MySQL 8 and MariaDB accept them unchanged.
CREATE TABLE `apps` (
	`id` int AUTO_INCREMENT NOT NULL,
	`name` varchar(64) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`app_id` varchar(64) NOT NULL,
	`app_secret` text,
	`callback_token` text,
	`encoding_aes_key` text,
	`token_mode` varchar(16) NOT NULL,
	`forward` text NOT NULL,
	`source` varchar(8) NOT NULL,
	`enabled` boolean NOT NULL,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `apps_id` PRIMARY KEY(`id`),
	CONSTRAINT `apps_name_unique` UNIQUE(`name`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `callback_messages` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`dedup_key` varchar(191) NOT NULL,
	`received_at` bigint NOT NULL,
	`format` varchar(8) NOT NULL,
	`encrypted` boolean NOT NULL,
	`raw` mediumtext NOT NULL,
	`parsed` mediumtext NOT NULL,
	`msg_type` varchar(64),
	`event` varchar(128),
	`from_user` varchar(128),
	`to_user` varchar(128),
	`create_time` bigint,
	`msg_id` varchar(128),
	`reply` mediumtext,
	CONSTRAINT `callback_messages_id` PRIMARY KEY(`id`),
	CONSTRAINT `callback_messages_app_dedup_unique` UNIQUE(`app`,`dedup_key`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `credentials` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`owner` varchar(191) NOT NULL,
	`kind` varchar(48) NOT NULL,
	`value` text,
	`expires_at` bigint,
	`version` int NOT NULL DEFAULT 0,
	`lease_owner` varchar(96),
	`lease_until` bigint,
	`last_error` text,
	`last_error_at` bigint,
	`failures` int NOT NULL DEFAULT 0,
	`next_attempt_at` bigint,
	`refreshed_at` bigint,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `credentials_id` PRIMARY KEY(`id`),
	CONSTRAINT `credentials_owner_kind_unique` UNIQUE(`owner`,`kind`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `merchants` (
	`id` int AUTO_INCREMENT NOT NULL,
	`name` varchar(64) NOT NULL,
	`mch_id` varchar(32) NOT NULL,
	`app_id` varchar(64),
	`api_v3_key` text NOT NULL,
	`serial_no` varchar(64) NOT NULL,
	`private_key` text NOT NULL,
	`public_key_id` varchar(64),
	`public_key` text,
	`platform_certificates` mediumtext NOT NULL,
	`forward` text NOT NULL,
	`source` varchar(8) NOT NULL,
	`enabled` boolean NOT NULL,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `merchants_id` PRIMARY KEY(`id`),
	CONSTRAINT `merchants_name_unique` UNIQUE(`name`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`source` varchar(16) NOT NULL,
	`source_id` bigint NOT NULL,
	`owner` varchar(64) NOT NULL,
	`target_url` text NOT NULL,
	`idempotency_key` varchar(191) NOT NULL,
	`payload` mediumtext NOT NULL,
	`status` varchar(12) NOT NULL,
	`attempts` int NOT NULL DEFAULT 0,
	`max_attempts` int NOT NULL,
	`next_attempt_at` bigint NOT NULL,
	`locked_by` varchar(96),
	`locked_until` bigint,
	`last_error` text,
	`delivered_at` bigint,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `outbox_id` PRIMARY KEY(`id`),
	CONSTRAINT `outbox_idempotency_key_unique` UNIQUE(`idempotency_key`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `pay_notifications` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`merchant` varchar(64) NOT NULL,
	`notification_id` varchar(64) NOT NULL,
	`event_type` varchar(64) NOT NULL,
	`resource_type` varchar(64) NOT NULL,
	`summary` varchar(255),
	`create_time` varchar(40),
	`raw` mediumtext NOT NULL,
	`resource` mediumtext NOT NULL,
	`received_at` bigint NOT NULL,
	CONSTRAINT `pay_notifications_id` PRIMARY KEY(`id`),
	CONSTRAINT `pay_notifications_merchant_id_unique` UNIQUE(`merchant`,`notification_id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE INDEX `callback_messages_received_at_idx` ON `callback_messages` (`received_at`);--> statement-breakpoint
CREATE INDEX `credentials_expires_at_idx` ON `credentials` (`expires_at`);--> statement-breakpoint
CREATE INDEX `outbox_status_next_attempt_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `pay_notifications_received_at_idx` ON `pay_notifications` (`received_at`);