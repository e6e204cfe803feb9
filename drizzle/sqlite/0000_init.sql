CREATE TABLE `apps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`app_id` text NOT NULL,
	`app_secret` text,
	`callback_token` text,
	`encoding_aes_key` text,
	`token_mode` text NOT NULL,
	`forward` text NOT NULL,
	`source` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `apps_name_unique` ON `apps` (`name`);--> statement-breakpoint
CREATE TABLE `callback_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app` text NOT NULL,
	`dedup_key` text NOT NULL,
	`received_at` integer NOT NULL,
	`format` text NOT NULL,
	`encrypted` integer NOT NULL,
	`raw` text NOT NULL,
	`parsed` text NOT NULL,
	`msg_type` text,
	`event` text,
	`from_user` text,
	`to_user` text,
	`create_time` integer,
	`msg_id` text,
	`reply` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `callback_messages_app_dedup_unique` ON `callback_messages` (`app`,`dedup_key`);--> statement-breakpoint
CREATE INDEX `callback_messages_received_at_idx` ON `callback_messages` (`received_at`);--> statement-breakpoint
CREATE TABLE `credentials` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner` text NOT NULL,
	`kind` text NOT NULL,
	`value` text,
	`expires_at` integer,
	`version` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`last_error` text,
	`last_error_at` integer,
	`failures` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`refreshed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credentials_owner_kind_unique` ON `credentials` (`owner`,`kind`);--> statement-breakpoint
CREATE INDEX `credentials_expires_at_idx` ON `credentials` (`expires_at`);--> statement-breakpoint
CREATE TABLE `merchants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`mch_id` text NOT NULL,
	`app_id` text,
	`api_v3_key` text NOT NULL,
	`serial_no` text NOT NULL,
	`private_key` text NOT NULL,
	`public_key_id` text,
	`public_key` text,
	`platform_certificates` text NOT NULL,
	`forward` text NOT NULL,
	`source` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `merchants_name_unique` ON `merchants` (`name`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source` text NOT NULL,
	`source_id` integer NOT NULL,
	`owner` text NOT NULL,
	`target_url` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`locked_by` text,
	`locked_until` integer,
	`last_error` text,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_idempotency_key_unique` ON `outbox` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `outbox_status_next_attempt_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `pay_notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`merchant` text NOT NULL,
	`notification_id` text NOT NULL,
	`event_type` text NOT NULL,
	`resource_type` text NOT NULL,
	`summary` text,
	`create_time` text,
	`raw` text NOT NULL,
	`resource` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pay_notifications_merchant_id_unique` ON `pay_notifications` (`merchant`,`notification_id`);--> statement-breakpoint
CREATE INDEX `pay_notifications_received_at_idx` ON `pay_notifications` (`received_at`);