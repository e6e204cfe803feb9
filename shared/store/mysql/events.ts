import { and, asc, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import {
  callbackMessages,
  callbackSignatures,
  outbox,
  payNotifications,
} from '../../db/schema/mysql';
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
  type UsedSignature,
} from '../types';
import { affected, isDuplicateKey } from './util';

/**
 * Inserts a source row and its deliveries in one transaction; a duplicate key (WeChat's retry)
 * rolls back and reports `false`, never an error.
 */
async function insertOnce(
  db: MySql2Database,
  insertSource: (tx: MySql2Database) => Promise<number>,
  deliveries: (id: number) => ReturnType<typeof deliveryRows>,
): Promise<boolean> {
  try {
    await db.transaction(async (tx) => {
      const id = await insertSource(tx);
      const rows = deliveries(id);
      if (rows.length > 0) await tx.insert(outbox).values(rows);
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Records a push's signature inside the message's transaction: one `INSERT IGNORE` on the unique
 * (app, signature) key; only when it was there already is its body hash read and compared.
 */
async function rememberSignature(
  tx: MySql2Database,
  app: string,
  signature: UsedSignature,
): Promise<void> {
  const r = await tx
    .insert(callbackSignatures)
    .ignore()
    .values({ app, ...signature });
  if (affected(r) > 0) return;
  const [prior] = await tx
    .select({ bodyHash: callbackSignatures.bodyHash })
    .from(callbackSignatures)
    .where(
      and(eq(callbackSignatures.app, app), eq(callbackSignatures.signature, signature.signature)),
    );
  if (prior?.bodyHash !== signature.bodyHash) throw new SignatureReplayError();
}

/** Callback messages on MySQL/MariaDB. */
export function mysqlMessages(db: MySql2Database): MessagesRepo {
  const get = async (app: string, dedupKey: string) => {
    const [row] = await db
      .select()
      .from(callbackMessages)
      .where(and(eq(callbackMessages.app, app), eq(callbackMessages.dedupKey, dedupKey)));
    return row;
  };
  return {
    async insert(msg, deliveries, now, signature) {
      const inserted = await insertOnce(
        db,
        async (tx) => {
          if (signature !== undefined) await rememberSignature(tx, msg.app, signature);
          const [r] = await tx.insert(callbackMessages).values(messageRow(msg)).$returningId();
          if (r === undefined) throw new Error('insert returned no id');
          return r.id;
        },
        (id) => deliveryRows('message', id, deliveries, now),
      );
      const row = await get(msg.app, msg.dedupKey);
      if (row === undefined) throw new Error('stored message vanished');
      return { inserted, message: messageRecord(row) };
    },
    async get(app, dedupKey) {
      const row = await get(app, dedupKey);
      return row === undefined ? undefined : messageRecord(row);
    },
    async count(app) {
      const [row] = await db
        .select({ n: sql<number>`count(*)` })
        .from(callbackMessages)
        .where(eq(callbackMessages.app, app));
      return Number(row?.n ?? 0);
    },
    async finishReply(id, reply) {
      await db
        .update(callbackMessages)
        .set({ reply })
        .where(and(eq(callbackMessages.id, id), isNull(callbackMessages.reply)));
      const [row] = await db
        .select({ reply: callbackMessages.reply })
        .from(callbackMessages)
        .where(eq(callbackMessages.id, id));
      return row?.reply ?? reply;
    },
    async purgeBefore(before, limit) {
      return affected(
        await db
          .delete(callbackMessages)
          .where(lt(callbackMessages.receivedAt, before))
          .orderBy(asc(callbackMessages.receivedAt))
          .limit(limit),
      );
    },
    async purgeSignatures(before, limit) {
      return affected(
        await db
          .delete(callbackSignatures)
          .where(lt(callbackSignatures.expiresAt, before))
          .orderBy(asc(callbackSignatures.expiresAt))
          .limit(limit),
      );
    },
  };
}

/** Pay notifications on MySQL/MariaDB. */
export function mysqlPayNotifications(db: MySql2Database): PayNotificationsRepo {
  const get = async (merchant: string, notificationId: string) => {
    const [row] = await db
      .select()
      .from(payNotifications)
      .where(
        and(
          eq(payNotifications.merchant, merchant),
          eq(payNotifications.notificationId, notificationId),
        ),
      );
    return row;
  };
  return {
    async insert(n, deliveries, now) {
      const inserted = await insertOnce(
        db,
        async (tx) => {
          const [r] = await tx.insert(payNotifications).values(payRow(n)).$returningId();
          if (r === undefined) throw new Error('insert returned no id');
          return r.id;
        },
        (id) => deliveryRows('pay', id, deliveries, now),
      );
      const row = await get(n.merchant, n.notificationId);
      if (row === undefined) throw new Error('stored notification vanished');
      return { inserted, notification: payRecord(row) };
    },
    async get(merchant, notificationId) {
      const row = await get(merchant, notificationId);
      return row === undefined ? undefined : payRecord(row);
    },
  };
}

/** The delivery outbox on MySQL/MariaDB. */
export function mysqlOutbox(db: MySql2Database): OutboxRepo {
  return {
    async claimDue(worker, now, lockMs, limit, owner) {
      // One UPDATE … ORDER BY … LIMIT locks the batch; concurrent drainers get disjoint rows.
      await db
        .update(outbox)
        .set({ lockedBy: worker, lockedUntil: now + lockMs, updatedAt: now })
        .where(
          and(
            eq(outbox.status, 'pending'),
            lte(outbox.nextAttemptAt, now),
            or(isNull(outbox.lockedUntil), lte(outbox.lockedUntil, now)),
            owner === undefined ? undefined : eq(outbox.owner, owner),
          ),
        )
        .orderBy(asc(outbox.nextAttemptAt))
        .limit(limit);
      const rows = await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.lockedBy, worker), eq(outbox.status, 'pending')))
        .orderBy(asc(outbox.nextAttemptAt));
      return rows.map(deliveryRecord);
    },
    async markDelivered(id, worker, now) {
      const [row] = await db
        .select({ attempts: outbox.attempts })
        .from(outbox)
        .where(and(eq(outbox.id, id), eq(outbox.lockedBy, worker)));
      if (row === undefined) return false;
      const r = await db
        .update(outbox)
        .set({
          status: 'delivered',
          attempts: row.attempts + 1,
          deliveredAt: now,
          lockedBy: null,
          lockedUntil: null,
          lastError: null,
          updatedAt: now,
        })
        .where(and(eq(outbox.id, id), eq(outbox.lockedBy, worker)));
      return affected(r) === 1;
    },
    async markFailed(id, worker, error, nextAttemptAt, now) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .select({ attempts: outbox.attempts, maxAttempts: outbox.maxAttempts })
          .from(outbox)
          .where(and(eq(outbox.id, id), eq(outbox.lockedBy, worker)))
          .for('update');
        if (row === undefined) return 'lost' as const;
        const status = row.attempts + 1 >= row.maxAttempts ? 'dead' : 'pending';
        await tx
          .update(outbox)
          .set({
            status,
            attempts: row.attempts + 1,
            nextAttemptAt,
            lastError: error,
            lockedBy: null,
            lockedUntil: null,
            updatedAt: now,
          })
          .where(eq(outbox.id, id));
        return status;
      });
    },
    async forSource(source, sourceId) {
      const rows = await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.source, source), eq(outbox.sourceId, sourceId)))
        .orderBy(asc(outbox.id));
      return rows.map(deliveryRecord);
    },
    async purgeDelivered(before, limit) {
      return affected(
        await db
          .delete(outbox)
          .where(and(eq(outbox.status, 'delivered'), lt(outbox.deliveredAt, before)))
          .orderBy(asc(outbox.deliveredAt))
          .limit(limit),
      );
    },
    async list(filter) {
      const conditions = [];
      if (filter.status !== undefined) conditions.push(eq(outbox.status, filter.status));
      if (filter.owner !== undefined) conditions.push(eq(outbox.owner, filter.owner));
      const rows = await db
        .select()
        .from(outbox)
        .where(and(...conditions))
        .orderBy(asc(outbox.id));
      return rows.map(deliveryRecord);
    },
  };
}
