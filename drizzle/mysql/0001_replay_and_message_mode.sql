CREATE TABLE `callback_signatures` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`signature` varchar(64) NOT NULL,
	`body_hash` varchar(64) NOT NULL,
	`expires_at` bigint NOT NULL,
	CONSTRAINT `callback_signatures_id` PRIMARY KEY(`id`),
	CONSTRAINT `callback_signatures_app_signature_unique` UNIQUE(`app`,`signature`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `message_mode` varchar(16);--> statement-breakpoint
CREATE INDEX `callback_signatures_expires_at_idx` ON `callback_signatures` (`expires_at`);