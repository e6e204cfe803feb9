import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Mirrors ./mysql.ts column for column (same names, same meaning); see the comments there.
// Times are epoch milliseconds.
const ms = (name: string) => integer(name, { mode: 'number' });
const bool = (name: string) => integer(name, { mode: 'boolean' });

export const apps = sqliteTable('apps', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique('apps_name_unique'),
  kind: text('kind').notNull(),
  appId: text('app_id').notNull(),
  appSecret: text('app_secret'),
  callbackToken: text('callback_token'),
  encodingAesKey: text('encoding_aes_key'),
  tokenMode: text('token_mode').notNull(),
  messageMode: text('message_mode'),
  forward: text('forward').notNull(),
  source: text('source').notNull(),
  enabled: bool('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

export const merchants = sqliteTable('merchants', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique('merchants_name_unique'),
  mchId: text('mch_id').notNull(),
  appId: text('app_id'),
  apiV3Key: text('api_v3_key').notNull(),
  serialNo: text('serial_no').notNull(),
  privateKey: text('private_key').notNull(),
  publicKeyId: text('public_key_id'),
  publicKey: text('public_key'),
  platformCertificates: text('platform_certificates').notNull(),
  forward: text('forward').notNull(),
  source: text('source').notNull(),
  enabled: bool('enabled').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

export const credentials = sqliteTable(
  'credentials',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    owner: text('owner').notNull(),
    kind: text('kind').notNull(),
    value: text('value'),
    expiresAt: ms('expires_at'),
    version: integer('version').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: ms('lease_until'),
    lastError: text('last_error'),
    lastErrorAt: ms('last_error_at'),
    failures: integer('failures').notNull().default(0),
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

export const callbackMessages = sqliteTable(
  'callback_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    app: text('app').notNull(),
    dedupKey: text('dedup_key').notNull(),
    receivedAt: ms('received_at').notNull(),
    format: text('format').notNull(),
    encrypted: bool('encrypted').notNull(),
    raw: text('raw').notNull(),
    parsed: text('parsed').notNull(),
    msgType: text('msg_type'),
    event: text('event'),
    fromUser: text('from_user'),
    toUser: text('to_user'),
    createTime: ms('create_time'),
    msgId: text('msg_id'),
    reply: text('reply'),
  },
  (t) => [
    uniqueIndex('callback_messages_app_dedup_unique').on(t.app, t.dedupKey),
    index('callback_messages_received_at_idx').on(t.receivedAt),
  ],
);

export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    source: text('source').notNull(),
    sourceId: integer('source_id').notNull(),
    owner: text('owner').notNull(),
    targetUrl: text('target_url').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique('outbox_idempotency_key_unique'),
    payload: text('payload').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    lockedBy: text('locked_by'),
    lockedUntil: ms('locked_until'),
    lastError: text('last_error'),
    deliveredAt: ms('delivered_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('outbox_status_next_attempt_idx').on(t.status, t.nextAttemptAt)],
);

export const payNotifications = sqliteTable(
  'pay_notifications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    merchant: text('merchant').notNull(),
    notificationId: text('notification_id').notNull(),
    eventType: text('event_type').notNull(),
    resourceType: text('resource_type').notNull(),
    summary: text('summary'),
    createTime: text('create_time'),
    raw: text('raw').notNull(),
    resource: text('resource').notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('pay_notifications_merchant_id_unique').on(t.merchant, t.notificationId),
    index('pay_notifications_received_at_idx').on(t.receivedAt),
  ],
);

export const callbackSignatures = sqliteTable(
  'callback_signatures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    app: text('app').notNull(),
    signature: text('signature').notNull(),
    bodyHash: text('body_hash').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('callback_signatures_app_signature_unique').on(t.app, t.signature),
    index('callback_signatures_expires_at_idx').on(t.expiresAt),
  ],
);
