CREATE TABLE `oauth_states` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`state_hash` text NOT NULL,
	`app` text NOT NULL,
	`scope` text NOT NULL,
	`redirect` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_states_state_hash_unique` ON `oauth_states` (`state_hash`);--> statement-breakpoint
CREATE INDEX `oauth_states_expires_at_idx` ON `oauth_states` (`expires_at`);--> statement-breakpoint
CREATE TABLE `oauth_tickets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ticket_hash` text NOT NULL,
	`app` text NOT NULL,
	`openid` text NOT NULL,
	`unionid` text,
	`scope` text NOT NULL,
	`user` text,
	`snapshot_user` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_tickets_ticket_hash_unique` ON `oauth_tickets` (`ticket_hash`);--> statement-breakpoint
CREATE INDEX `oauth_tickets_expires_at_idx` ON `oauth_tickets` (`expires_at`);--> statement-breakpoint
ALTER TABLE `apps` ADD `oauth_redirects` text;--> statement-breakpoint
ALTER TABLE `apps` ADD `oauth_component` text;