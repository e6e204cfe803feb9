import { bigserial, bool, index, mediumtext, ms, table, uniqueIndex, varchar } from './columns';

/** Callback messages as received: raw body, parsed fields, dedup key unique per app. */
export const callbackMessages = table(
  'callback_messages',
  {
    id: bigserial('id'),
    app: varchar('app', 64).notNull(),
    dedupKey: varchar('dedup_key', 191).notNull(),
    receivedAt: ms('received_at').notNull(),
    format: varchar('format', 8).notNull(),
    encrypted: bool('encrypted').notNull(),
    raw: mediumtext('raw').notNull(),
    parsed: mediumtext('parsed').notNull(),
    msgType: varchar('msg_type', 64),
    event: varchar('event', 128),
    fromUser: varchar('from_user', 128),
    toUser: varchar('to_user', 128),
    createTime: ms('create_time'),
    msgId: varchar('msg_id', 128),
    reply: mediumtext('reply'),
    /** A third-party platform's message URL: the authorizer the push is for (`{appid}`). */
    authorizerAppid: varchar('authorizer_appid', 64),
  },
  [
    uniqueIndex('callback_messages_app_dedup_unique', 'app', 'dedupKey'),
    index('callback_messages_received_at_idx', 'receivedAt'),
  ],
);
