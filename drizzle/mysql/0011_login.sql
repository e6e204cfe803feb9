CREATE TABLE `login_sessions` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`app` varchar(64) NOT NULL,
	`openid` varchar(128) NOT NULL,
	`session_key` text NOT NULL,
	`created_at` bigint NOT NULL,
	`updated_at` bigint NOT NULL,
	CONSTRAINT `login_sessions_id` PRIMARY KEY(`id`),
	CONSTRAINT `login_sessions_app_openid_unique` UNIQUE(`app`,`openid`)
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`generation` int NOT NULL,
	`kid` varchar(64) NOT NULL,
	`alg` varchar(16) NOT NULL,
	`public_jwk` text NOT NULL,
	`private_key` text NOT NULL,
	`signs_from` bigint NOT NULL,
	`signs_until` bigint NOT NULL,
	`created_at` bigint NOT NULL,
	CONSTRAINT `signing_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `signing_keys_generation_unique` UNIQUE(`generation`),
	CONSTRAINT `signing_keys_kid_unique` UNIQUE(`kid`)
);
--> statement-breakpoint
CREATE INDEX `login_sessions_updated_at_idx` ON `login_sessions` (`updated_at`);