CREATE TABLE `callback_signatures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app` text NOT NULL,
	`signature` text NOT NULL,
	`body_hash` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `callback_signatures_app_signature_unique` ON `callback_signatures` (`app`,`signature`);--> statement-breakpoint
CREATE INDEX `callback_signatures_expires_at_idx` ON `callback_signatures` (`expires_at`);--> statement-breakpoint
ALTER TABLE `apps` ADD `message_mode` text;