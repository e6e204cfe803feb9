import {
  bigint,
  boolean,
  index,
  int,
  mediumtext,
  mysqlTable,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';

// Times are epoch milliseconds in BIGINT columns on both dialects: no time-zone conversion,
// identical comparison semantics in MySQL, MariaDB and SQLite.
const ms = (name: string) => bigint(name, { mode: 'number' });

/** Apps from the apps file or the admin API. Secret columns hold SecretBox-sealed values. */
export const apps = mysqlTable('apps', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 64 }).notNull().unique('apps_name_unique'),
  kind: varchar('kind', { length: 16 }).notNull(),
  appId: varchar('app_id', { length: 64 }).notNull(),
  appSecret: text('app_secret'),
  callbackToken: text('callback_token'),
  encodingAesKey: text('encoding_aes_key'),
  tokenMode: varchar('token_mode', { length: 16 }).notNull(),
  /** `plain`, `compatible` or `safe` as configured; null takes the default (safe with an AES key). */
  messageMode: varchar('message_mode', { length: 16 }),
  forward: text('forward').notNull(),
  source: varchar('source', { length: 8 }).notNull(),
  enabled: boolean('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** WeChat Pay merchants. `api_v3_key` and `private_key` are sealed. */
export const merchants = mysqlTable('merchants', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 64 }).notNull().unique('merchants_name_unique'),
  mchId: varchar('mch_id', { length: 32 }).notNull(),
  appId: varchar('app_id', { length: 64 }),
  apiV3Key: text('api_v3_key').notNull(),
  serialNo: varchar('serial_no', { length: 64 }).notNull(),
  privateKey: text('private_key').notNull(),
  publicKeyId: varchar('public_key_id', { length: 64 }),
  publicKey: text('public_key'),
  platformCertificates: mediumtext('platform_certificates').notNull(),
  forward: text('forward').notNull(),
  source: varchar('source', { length: 8 }).notNull(),
  enabled: boolean('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** One row per credential (owner + kind); `value` sealed. The lease columns elect one refresher. */
export const credentials = mysqlTable(
  'credentials',
  {
    id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
    owner: varchar('owner', { length: 191 }).notNull(),
    kind: varchar('kind', { length: 48 }).notNull(),
    value: text('value'),
    expiresAt: ms('expires_at'),
    version: int('version').notNull().default(0),
    leaseOwner: varchar('lease_owner', { length: 96 }),
    leaseUntil: ms('lease_until'),
    lastError: text('last_error'),
    lastErrorAt: ms('last_error_at'),
    failures: int('failures').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at'),
    refreshedAt: ms('refreshed_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('credentials_owner_kind_unique').on(t.owner, t.kind),
    index('credentials_expires_at_idx').on(t.expiresAt),
  ],
);

/** Callback messages as received: raw body, parsed fields, dedup key unique per app. */
export const callbackMessages = mysqlTable(
  'callback_messages',
  {
    id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
    app: varchar('app', { length: 64 }).notNull(),
    dedupKey: varchar('dedup_key', { length: 191 }).notNull(),
    receivedAt: ms('received_at').notNull(),
    format: varchar('format', { length: 8 }).notNull(),
    encrypted: boolean('encrypted').notNull(),
    raw: mediumtext('raw').notNull(),
    parsed: mediumtext('parsed').notNull(),
    msgType: varchar('msg_type', { length: 64 }),
    event: varchar('event', { length: 128 }),
    fromUser: varchar('from_user', { length: 128 }),
    toUser: varchar('to_user', { length: 128 }),
    createTime: ms('create_time'),
    msgId: varchar('msg_id', { length: 128 }),
    reply: mediumtext('reply'),
  },
  (t) => [
    uniqueIndex('callback_messages_app_dedup_unique').on(t.app, t.dedupKey),
    index('callback_messages_received_at_idx').on(t.receivedAt),
  ],
);

/** Deliveries to the team's own services, drained with backoff; `dead` rows are kept. */
export const outbox = mysqlTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
    source: varchar('source', { length: 16 }).notNull(),
    sourceId: bigint('source_id', { mode: 'number' }).notNull(),
    owner: varchar('owner', { length: 64 }).notNull(),
    targetUrl: text('target_url').notNull(),
    idempotencyKey: varchar('idempotency_key', { length: 191 })
      .notNull()
      .unique('outbox_idempotency_key_unique'),
    payload: mediumtext('payload').notNull(),
    status: varchar('status', { length: 12 }).notNull(),
    attempts: int('attempts').notNull().default(0),
    maxAttempts: int('max_attempts').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    lockedBy: varchar('locked_by', { length: 96 }),
    lockedUntil: ms('locked_until'),
    lastError: text('last_error'),
    deliveredAt: ms('delivered_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('outbox_status_next_attempt_idx').on(t.status, t.nextAttemptAt)],
);

/** WeChat Pay notifications, stored once per merchant and notification id. */
export const payNotifications = mysqlTable(
  'pay_notifications',
  {
    id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
    merchant: varchar('merchant', { length: 64 }).notNull(),
    notificationId: varchar('notification_id', { length: 64 }).notNull(),
    eventType: varchar('event_type', { length: 64 }).notNull(),
    resourceType: varchar('resource_type', { length: 64 }).notNull(),
    summary: varchar('summary', { length: 255 }),
    createTime: varchar('create_time', { length: 40 }),
    raw: mediumtext('raw').notNull(),
    resource: mediumtext('resource').notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('pay_notifications_merchant_id_unique').on(t.merchant, t.notificationId),
    index('pay_notifications_received_at_idx').on(t.receivedAt),
  ],
);

/**
 * Signatures of accepted pushes, kept while their timestamp is inside the accepted skew: a
 * signature seen again with another body is a replay (a plaintext `signature` does not cover
 * the body). `body_hash` is SHA-256 of the raw body, hex.
 */
export const callbackSignatures = mysqlTable(
  'callback_signatures',
  {
    id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
    app: varchar('app', { length: 64 }).notNull(),
    signature: varchar('signature', { length: 64 }).notNull(),
    bodyHash: varchar('body_hash', { length: 64 }).notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('callback_signatures_app_signature_unique').on(t.app, t.signature),
    index('callback_signatures_expires_at_idx').on(t.expiresAt),
  ],
);
