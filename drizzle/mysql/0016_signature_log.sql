CREATE TABLE `callback_signature_log` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`signature` varchar(64) NOT NULL,
	`body_hash` varchar(64) NOT NULL,
	`expires_at` bigint NOT NULL,
	CONSTRAINT `callback_signature_log_id` PRIMARY KEY(`id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE INDEX `callback_signature_log_expires_at_idx` ON `callback_signature_log` (`expires_at`);