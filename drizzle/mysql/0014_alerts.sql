CREATE TABLE `alerts` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`key` varchar(191) NOT NULL,
	`raised_at` bigint NOT NULL,
	CONSTRAINT `alerts_id` PRIMARY KEY(`id`),
	CONSTRAINT `alerts_key_unique` UNIQUE(`key`)
);
