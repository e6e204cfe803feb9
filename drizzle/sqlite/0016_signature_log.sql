CREATE TABLE `callback_signature_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app` text NOT NULL,
	`signature` text NOT NULL,
	`body_hash` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `callback_signature_log_expires_at_idx` ON `callback_signature_log` (`expires_at`);--> statement-breakpoint
-- The signatures remembered so far move to the log the SQLite store now keeps them in.
INSERT INTO `callback_signature_log` (`app`, `signature`, `body_hash`, `expires_at`) SELECT `app`, `signature`, `body_hash`, `expires_at` FROM `callback_signatures` ORDER BY `id`;--> statement-breakpoint
DELETE FROM `callback_signatures`;
