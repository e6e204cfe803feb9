import { and, eq, gte, lt } from 'drizzle-orm';
import { deliveryRows, payRecord, payRow } from './codec';
import type { Db } from './dialect';
import { searchReceived } from './search';
import type { PayNotificationsRepo } from './types';

/**
 * WeChat Pay notifications, stored once per (merchant, notification id) with their deliveries in
 * one transaction; WeChat's retry inserts nothing and reports `false`.
 */
export function payNotificationsRepo(db: Db): PayNotificationsRepo {
  const { payNotifications: p } = db.t;
  const get = (merchant: string, notificationId: string) =>
    db.first(
      'payNotifications',
      and(eq(p.merchant, merchant), eq(p.notificationId, notificationId)),
    );
  return {
    async insert(n, deliveries, now) {
      // Read back inside the transaction, so a retry of the whole method never reports its own
      // notification as WeChat Pay's retry.
      return db.transaction(async (tx) => {
        const id = await tx.insertIgnore('payNotifications', payRow(n));
        if (id !== undefined) await tx.insert('outbox', deliveryRows('pay', id, deliveries, now));
        const row = await tx.first(
          'payNotifications',
          and(eq(p.merchant, n.merchant), eq(p.notificationId, n.notificationId)),
        );
        if (row === undefined) throw new Error('stored notification vanished');
        return { inserted: id !== undefined, notification: payRecord(row) };
      });
    },
    async get(merchant, notificationId) {
      const row = await get(merchant, notificationId);
      return row === undefined ? undefined : payRecord(row);
    },
    async byId(id) {
      const row = await db.first('payNotifications', eq(p.id, id));
      return row === undefined ? undefined : payRecord(row);
    },
    async search(q) {
      const equal = [
        [p.merchant, q.merchant],
        [p.eventType, q.eventType],
      ] as const;
      const rows = await searchReceived(db, 'payNotifications', equal, q);
      return rows.map(payRecord);
    },
    async countReceived(from, to) {
      return db.count('payNotifications', and(gte(p.receivedAt, from), lt(p.receivedAt, to)));
    },
  };
}
