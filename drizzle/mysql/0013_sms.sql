CREATE TABLE `sms_codes` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`sender` varchar(64) NOT NULL,
	`phone_hash` varchar(64) NOT NULL,
	`scene` varchar(32) NOT NULL,
	`code_hash` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`failures` int NOT NULL DEFAULT 0,
	`expires_at` bigint NOT NULL,
	`used_at` bigint,
	`created_at` bigint NOT NULL,
	CONSTRAINT `sms_codes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `sms_locks` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`sender` varchar(64) NOT NULL,
	`phone_hash` varchar(64) NOT NULL,
	`lease_owner` varchar(128),
	`lease_until` bigint,
	CONSTRAINT `sms_locks_id` PRIMARY KEY(`id`),
	CONSTRAINT `sms_locks_sender_phone_unique` UNIQUE(`sender`,`phone_hash`)
);
--> statement-breakpoint
CREATE INDEX `sms_codes_sender_phone_created_idx` ON `sms_codes` (`sender`,`phone_hash`,`created_at`);--> statement-breakpoint
CREATE INDEX `sms_codes_created_idx` ON `sms_codes` (`created_at`);