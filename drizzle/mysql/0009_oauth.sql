CREATE TABLE `oauth_states` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`state_hash` varchar(64) NOT NULL,
	`app` varchar(64) NOT NULL,
	`scope` varchar(32) NOT NULL,
	`redirect` text NOT NULL,
	`expires_at` bigint NOT NULL,
	`used_at` bigint,
	`created_at` bigint NOT NULL,
	CONSTRAINT `oauth_states_id` PRIMARY KEY(`id`),
	CONSTRAINT `oauth_states_state_hash_unique` UNIQUE(`state_hash`)
);
--> statement-breakpoint
CREATE TABLE `oauth_tickets` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`ticket_hash` varchar(64) NOT NULL,
	`app` varchar(64) NOT NULL,
	`openid` varchar(128) NOT NULL,
	`unionid` varchar(128),
	`scope` varchar(32) NOT NULL,
	`user` mediumtext,
	`snapshot_user` boolean NOT NULL,
	`expires_at` bigint NOT NULL,
	`used_at` bigint,
	`created_at` bigint NOT NULL,
	CONSTRAINT `oauth_tickets_id` PRIMARY KEY(`id`),
	CONSTRAINT `oauth_tickets_ticket_hash_unique` UNIQUE(`ticket_hash`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `oauth_redirects` text;--> statement-breakpoint
ALTER TABLE `apps` ADD `oauth_component` varchar(64);--> statement-breakpoint
CREATE INDEX `oauth_states_expires_at_idx` ON `oauth_states` (`expires_at`);--> statement-breakpoint
CREATE INDEX `oauth_tickets_expires_at_idx` ON `oauth_tickets` (`expires_at`);