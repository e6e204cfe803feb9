CREATE TABLE `sms_codes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sender` text NOT NULL,
	`phone_hash` text NOT NULL,
	`scene` text NOT NULL,
	`code_hash` text NOT NULL,
	`status` text NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sms_codes_sender_phone_created_idx` ON `sms_codes` (`sender`,`phone_hash`,`created_at`);--> statement-breakpoint
CREATE INDEX `sms_codes_created_idx` ON `sms_codes` (`created_at`);--> statement-breakpoint
CREATE TABLE `sms_locks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sender` text NOT NULL,
	`phone_hash` text NOT NULL,
	`lease_owner` text,
	`lease_until` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sms_locks_sender_phone_unique` ON `sms_locks` (`sender`,`phone_hash`);