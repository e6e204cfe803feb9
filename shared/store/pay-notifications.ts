import { and, desc, eq, gte, lt } from 'drizzle-orm';
import { deliveryRows, payRecord, payRow } from './codec';
import type { Db } from './dialect';
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
      const where = and(
        q.merchant === undefined ? undefined : eq(p.merchant, q.merchant),
        q.eventType === undefined ? undefined : eq(p.eventType, q.eventType),
        q.from === undefined ? undefined : gte(p.receivedAt, q.from),
        q.to === undefined ? undefined : lt(p.receivedAt, q.to),
        q.before === undefined ? undefined : lt(p.id, q.before),
      );
      const rows = await db.select('payNotifications', where, {
        orderBy: desc(p.id),
        limit: q.limit,
      });
      return rows.map(payRecord);
    },
    async countReceived(from, to) {
      return db.count('payNotifications', and(gte(p.receivedAt, from), lt(p.receivedAt, to)));
    },
  };
}
