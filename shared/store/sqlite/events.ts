import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import {
  callbackMessages,
  callbackSignatures,
  outbox,
  payNotifications,
} from '../../db/schema/sqlite';
import {
  deliveryRecord,
  deliveryRows,
  messageRecord,
  messageRow,
  payRecord,
  payRow,
} from '../codec';
import {
  type MessagesRepo,
  type OutboxRepo,
  type PayNotificationsRepo,
  SignatureReplayError,
} from '../types';

/** Callback messages on SQLite; message and deliveries commit in one transaction. */
export function sqliteMessages(db: BetterSQLite3Database): MessagesRepo {
  const get = (app: string, dedupKey: string) =>
    db
      .select()
      .from(callbackMessages)
      .where(and(eq(callbackMessages.app, app), eq(callbackMessages.dedupKey, dedupKey)))
      .get();

  return {
    async insert(msg, deliveries, now, signature) {
      const inserted = db.transaction((tx) => {
        if (signature !== undefined) {
          const s = tx
            .insert(callbackSignatures)
            .values({ app: msg.app, ...signature })
            .onConflictDoNothing()
            .run();
          if (s.changes === 0) {
            const prior = tx
              .select({ bodyHash: callbackSignatures.bodyHash })
              .from(callbackSignatures)
              .where(
                and(
                  eq(callbackSignatures.app, msg.app),
                  eq(callbackSignatures.signature, signature.signature),
                ),
              )
              .get();
            if (prior?.bodyHash !== signature.bodyHash) throw new SignatureReplayError();
          }
        }
        const r = tx.insert(callbackMessages).values(messageRow(msg)).onConflictDoNothing().run();
        if (r.changes === 0) return false;
        const id = Number(r.lastInsertRowid);
        if (deliveries.length > 0) {
          tx.insert(outbox)
            .values(deliveryRows('message', id, deliveries, now))
            .run();
        }
        return true;
      });
      const row = get(msg.app, msg.dedupKey);
      if (row === undefined) throw new Error('stored message vanished');
      return { inserted, message: messageRecord(row) };
    },
    async get(app, dedupKey) {
      const row = get(app, dedupKey);
      return row === undefined ? undefined : messageRecord(row);
    },
    async count(app) {
      const row = db
        .select({ n: sql<number>`count(*)` })
        .from(callbackMessages)
        .where(eq(callbackMessages.app, app))
        .get();
      return Number(row?.n ?? 0);
    },
    async finishReply(id, reply) {
      db.update(callbackMessages)
        .set({ reply })
        .where(and(eq(callbackMessages.id, id), isNull(callbackMessages.reply)))
        .run();
      const row = db
        .select({ reply: callbackMessages.reply })
        .from(callbackMessages)
        .where(eq(callbackMessages.id, id))
        .get();
      return row?.reply ?? reply;
    },
    async purgeBefore(before, limit) {
      const ids = db
        .select({ id: callbackMessages.id })
        .from(callbackMessages)
        .where(lt(callbackMessages.receivedAt, before))
        .limit(limit);
      return db.delete(callbackMessages).where(inArray(callbackMessages.id, ids)).run().changes;
    },
    async purgeSignatures(before, limit) {
      const ids = db
        .select({ id: callbackSignatures.id })
        .from(callbackSignatures)
        .where(lt(callbackSignatures.expiresAt, before))
        .limit(limit);
      return db.delete(callbackSignatures).where(inArray(callbackSignatures.id, ids)).run().changes;
    },
  };
}

/** Pay notifications on SQLite, stored once per (merchant, notification id). */
export function sqlitePayNotifications(db: BetterSQLite3Database): PayNotificationsRepo {
  const get = (merchant: string, notificationId: string) =>
    db
      .select()
      .from(payNotifications)
      .where(
        and(
          eq(payNotifications.merchant, merchant),
          eq(payNotifications.notificationId, notificationId),
        ),
      )
      .get();

  return {
    async insert(n, deliveries, now) {
      const inserted = db.transaction((tx) => {
        const r = tx.insert(payNotifications).values(payRow(n)).onConflictDoNothing().run();
        if (r.changes === 0) return false;
        const id = Number(r.lastInsertRowid);
        if (deliveries.length > 0) {
          tx.insert(outbox)
            .values(deliveryRows('pay', id, deliveries, now))
            .run();
        }
        return true;
      });
      const row = get(n.merchant, n.notificationId);
      if (row === undefined) throw new Error('stored notification vanished');
      return { inserted, notification: payRecord(row) };
    },
    async get(merchant, notificationId) {
      const row = get(merchant, notificationId);
      return row === undefined ? undefined : payRecord(row);
    },
  };
}

/** The delivery outbox on SQLite. */
export function sqliteOutbox(db: BetterSQLite3Database): OutboxRepo {
  return {
    async claimDue(worker, now, lockMs, limit, owner) {
      return db.transaction((tx) => {
        const due = tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(
            and(
              eq(outbox.status, 'pending'),
              lte(outbox.nextAttemptAt, now),
              or(isNull(outbox.lockedUntil), lte(outbox.lockedUntil, now)),
              owner === undefined ? undefined : eq(outbox.owner, owner),
            ),
          )
          .orderBy(asc(outbox.nextAttemptAt))
          .limit(limit)
          .all()
          .map((r) => r.id);
        if (due.length === 0) return [];
        tx.update(outbox)
          .set({ lockedBy: worker, lockedUntil: now + lockMs, updatedAt: now })
          .where(inArray(outbox.id, due))
          .run();
        return tx
          .select()
          .from(outbox)
          .where(inArray(outbox.id, due))
          .orderBy(asc(outbox.nextAttemptAt))
          .all()
          .map(deliveryRecord);
      });
    },
    async markDelivered(id, worker, now) {
      const r = db
        .update(outbox)
        .set({
          status: 'delivered',
          attempts: sql`${outbox.attempts} + 1`,
          deliveredAt: now,
          lockedBy: null,
          lockedUntil: null,
          lastError: null,
          updatedAt: now,
        })
        .where(and(eq(outbox.id, id), eq(outbox.lockedBy, worker)))
        .run();
      return r.changes === 1;
    },
    async markFailed(id, worker, error, nextAttemptAt, now) {
      return db.transaction((tx) => {
        const row = tx
          .select({ attempts: outbox.attempts, maxAttempts: outbox.maxAttempts })
          .from(outbox)
          .where(and(eq(outbox.id, id), eq(outbox.lockedBy, worker)))
          .get();
        if (row === undefined) return 'lost' as const;
        const status = row.attempts + 1 >= row.maxAttempts ? 'dead' : 'pending';
        tx.update(outbox)
          .set({
            status,
            attempts: row.attempts + 1,
            nextAttemptAt,
            lastError: error,
            lockedBy: null,
            lockedUntil: null,
            updatedAt: now,
          })
          .where(eq(outbox.id, id))
          .run();
        return status;
      });
    },
    async forSource(source, sourceId) {
      return db
        .select()
        .from(outbox)
        .where(and(eq(outbox.source, source), eq(outbox.sourceId, sourceId)))
        .orderBy(asc(outbox.id))
        .all()
        .map(deliveryRecord);
    },
    async purgeDelivered(before, limit) {
      const ids = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(eq(outbox.status, 'delivered'), lt(outbox.deliveredAt, before)))
        .limit(limit);
      return db.delete(outbox).where(inArray(outbox.id, ids)).run().changes;
    },
    async list(filter) {
      const conditions = [];
      if (filter.status !== undefined) conditions.push(eq(outbox.status, filter.status));
      if (filter.owner !== undefined) conditions.push(eq(outbox.owner, filter.owner));
      return db
        .select()
        .from(outbox)
        .where(and(...conditions))
        .orderBy(asc(outbox.id))
        .all()
        .map(deliveryRecord);
    },
  };
}
