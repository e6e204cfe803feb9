import { and, asc, desc, eq, gte, isNull, lt } from 'drizzle-orm';
import { deliveryRows, messageRecord, messageRow } from './codec';
import type { Db } from './dialect';
import { type MessagesRepo, SignatureReplayError, type UsedSignature } from './types';

/**
 * Records a push's signature inside the message's transaction: one insert on the unique
 * (app, signature) key; only when it was there already is its body hash read and compared.
 */
async function rememberSignature(tx: Db, app: string, signature: UsedSignature): Promise<void> {
  const { callbackSignatures: s } = tx.t;
  if ((await tx.insertIgnore('callbackSignatures', { app, ...signature })) !== undefined) return;
  const prior = await tx.first(
    'callbackSignatures',
    and(eq(s.app, app), eq(s.signature, signature.signature)),
    {
      columns: ['bodyHash'],
    },
  );
  if (prior?.bodyHash !== signature.bodyHash) throw new SignatureReplayError();
}

/**
 * Callback messages, stored once per (app, dedup key): the message and its deliveries commit in
 * one transaction; WeChat's retry of a stored message inserts nothing and reports `false`.
 */
export function messagesRepo(db: Db): MessagesRepo {
  const { callbackMessages: m, callbackSignatures: s } = db.t;
  const get = (app: string, dedupKey: string) =>
    db.first('callbackMessages', and(eq(m.app, app), eq(m.dedupKey, dedupKey)));
  return {
    async insert(msg, deliveries, now, signature) {
      // Everything happens inside the transaction: were the read of a duplicate a step of its
      // own, a retry of this whole method after a failed read (SQLite's busy retry) would find
      // its own message stored and report it as WeChat's retry. A new row is not read back: it
      // is what was just inserted, with its new id.
      return db.transaction(async (tx) => {
        if (signature !== undefined) await rememberSignature(tx, msg.app, signature);
        const row = messageRow(msg);
        const id = await tx.insertIgnore('callbackMessages', row);
        if (id !== undefined) {
          await tx.insert('outbox', deliveryRows('message', id, deliveries, now));
          return { inserted: true, message: messageRecord({ id, ...row }) };
        }
        const first = await tx.first(
          'callbackMessages',
          and(eq(m.app, msg.app), eq(m.dedupKey, msg.dedupKey)),
        );
        if (first === undefined) throw new Error('stored message vanished');
        return { inserted: false, message: messageRecord(first) };
      });
    },
    async get(app, dedupKey) {
      const row = await get(app, dedupKey);
      return row === undefined ? undefined : messageRecord(row);
    },
    async count(app) {
      return db.count('callbackMessages', eq(m.app, app));
    },
    async finishReply(id, reply) {
      // Matched: this answer is the first one (only a row without one matches); else read it.
      const set = await db.update(
        'callbackMessages',
        { reply },
        and(eq(m.id, id), isNull(m.reply)),
      );
      if (set === 1) return reply;
      const row = await db.first('callbackMessages', eq(m.id, id), { columns: ['reply'] });
      return row?.reply ?? reply;
    },
    async purgeBefore(before, limit) {
      return db.delete('callbackMessages', lt(m.receivedAt, before), {
        orderBy: asc(m.receivedAt),
        limit,
      });
    },
    async byId(id) {
      const row = await db.first('callbackMessages', eq(m.id, id));
      return row === undefined ? undefined : messageRecord(row);
    },
    async search(q) {
      const where = and(
        q.app === undefined ? undefined : eq(m.app, q.app),
        q.msgType === undefined ? undefined : eq(m.msgType, q.msgType),
        q.event === undefined ? undefined : eq(m.event, q.event),
        q.fromUser === undefined ? undefined : eq(m.fromUser, q.fromUser),
        q.from === undefined ? undefined : gte(m.receivedAt, q.from),
        q.to === undefined ? undefined : lt(m.receivedAt, q.to),
        q.before === undefined ? undefined : lt(m.id, q.before),
      );
      const rows = await db.select('callbackMessages', where, {
        orderBy: desc(m.id),
        limit: q.limit,
      });
      return rows.map(messageRecord);
    },
    async countReceived(from, to) {
      return db.count('callbackMessages', and(gte(m.receivedAt, from), lt(m.receivedAt, to)));
    },
    async purgeSignatures(before, limit) {
      return db.delete('callbackSignatures', lt(s.expiresAt, before), {
        orderBy: asc(s.expiresAt),
        limit,
      });
    },
  };
}
