import { bool, mediumtext, ms, serial, table, text, varchar } from './columns';

/** WeChat Pay merchants. `api_v3_key` and `private_key` are sealed. */
export const merchants = table('merchants', {
  id: serial('id'),
  name: varchar('name', 64).notNull().unique('merchants_name_unique'),
  mchId: varchar('mch_id', 32).notNull(),
  appId: varchar('app_id', 64),
  apiV3Key: text('api_v3_key').notNull(),
  serialNo: varchar('serial_no', 64).notNull(),
  privateKey: text('private_key').notNull(),
  publicKeyId: varchar('public_key_id', 64),
  publicKey: text('public_key'),
  platformCertificates: mediumtext('platform_certificates').notNull(),
  forward: text('forward').notNull(),
  source: varchar('source', 8).notNull(),
  enabled: bool('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});
