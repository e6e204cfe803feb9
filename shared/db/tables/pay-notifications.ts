import { bigserial, index, mediumtext, ms, table, uniqueIndex, varchar } from './columns';

/** WeChat Pay notifications, stored once per merchant and notification id. */
export const payNotifications = table(
  'pay_notifications',
  {
    id: bigserial('id'),
    merchant: varchar('merchant', 64).notNull(),
    notificationId: varchar('notification_id', 64).notNull(),
    eventType: varchar('event_type', 64).notNull(),
    resourceType: varchar('resource_type', 64).notNull(),
    summary: varchar('summary', 255),
    createTime: varchar('create_time', 40),
    raw: mediumtext('raw').notNull(),
    resource: mediumtext('resource').notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  [
    uniqueIndex('pay_notifications_merchant_id_unique', 'merchant', 'notificationId'),
    index('pay_notifications_received_at_idx', 'receivedAt'),
  ],
);
