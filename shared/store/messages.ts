import { and, asc, type Column, eq, gte, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import { deliveryRows, messageRecord, messageRow, newMessageRecord } from './codec';
import type { Db } from './dialect';
import { searchReceived } from './search';
import {
  type CallbackMessageRecord,
  type MessagesRepo,
  type NewCallbackMessage,
  type NewDelivery,
  SignatureReplayError,
  type UsedSignature,
} from './types';

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
 * How a store remembers the signatures of accepted pushes: a database server by the unique key of
 * `callback_signatures` ({@link uniqueKeyMemory}), the embedded database in the process
 * (./dialects/sqlite-replay.ts).
 */
export interface SignatureMemory {
  /**
   * Inside the push's write transaction `tx`: records `signature` for `app`; nothing when it was
   * recorded with the same body (WeChat's retry); {@link SignatureReplayError} when with another.
   * `now` is the push's time: what expired before it is forgotten.
   */
  remember(tx: Db, app: string, signature: UsedSignature, now: number): Promise<void>;
  /**
   * Forgets the signatures that expired before `before`, at most `limit`, deleted with `db` (the
   * store's own adapter); returns how many.
   */
  purge(db: Db, before: number, limit: number): Promise<number>;
}

/** The replay memory of a database server: `callback_signatures` and its unique key. */
export const uniqueKeyMemory: SignatureMemory = {
  remember: (tx, app, signature) => rememberSignature(tx, app, signature),
  purge: (db, before, limit) => {
    const s = db.t.callbackSignatures;
    return db.delete('callbackSignatures', lt(s.expiresAt, before), {
      orderBy: asc(s.expiresAt),
      limit,
    });
  },
};

/** One call of {@link MessagesRepo.insert}. */
interface Push {
  msg: NewCallbackMessage;
  deliveries: NewDelivery[];
  now: number;
  signature: UsedSignature | undefined;
}
type Stored = { inserted: boolean; message: CallbackMessageRecord };

/**
 * Most pushes one batch stores; more go in the next, stored at the same time on another
 * connection. Small batches, sent as soon as the turn that asked for them ends: while one batch's
 * round trip is out, the pushes arriving meanwhile are received, checked and decrypted and go
 * in the next, so the hub is not idle waiting for the database. Measured (`npm run bench --
 * callback-push`, MariaDB): 8 pushes sent on the next turn stored about a fifth more per second
 * than batches of up to 64 that waited two more turns for stragglers; 4 or 16, fewer.
 */
export const PUSH_BATCH_MAX = 8;

/** Most pushes of one batch when some of a turn's share a key (they go one batch at a time). */
const PUSH_BATCH_MAX_IN_ORDER = 64;

/** Whether two of `pushes` have the same dedup key or the same signature (of one app). */
function sharesAKey(pushes: Push[]): boolean {
  const seen = new Set<string>();
  for (const { msg, signature } of pushes) {
    const keys = [`k${pairKey(msg.app, msg.dedupKey)}`];
    if (signature !== undefined) keys.push(`s${pairKey(msg.app, signature.signature)}`);
    for (const k of keys) {
      if (seen.has(k)) return true;
      seen.add(k);
    }
  }
  return false;
}

/** The rows whose `app` and `key` columns hold one of `items`' pairs: `key IN (…)` per app. */
function pairs(items: { app: string; key: string }[], app: Column, key: Column): SQL | undefined {
  const byApp = new Map<string, string[]>();
  for (const { app: a, key: k } of items) byApp.set(a, [...(byApp.get(a) ?? []), k]);
  const each = [...byApp].map(([a, keys]) => and(eq(app, a), inArray(key, keys)));
  return each.length === 1 ? each[0] : or(...each);
}

/** A key of one app, as a map key. */
export const pairKey = (app: string, key: string) => `${app}\n${key}`;

/**
 * Several pushes stored in one transaction with a few statements whatever their number, each
 * settled as it would be alone and in the order given: its signature recorded (a multi-row
 * insert that keeps a row already there; only when one was there, one read of the body hashes:
 * another body than its own is a replay, refused with nothing stored); of the pushes left, the
 * first of each dedup key is stored unless a row has it already (one multi-row insert; only when
 * a key was taken, one read of those and the insert again without them; one read of the new ids
 * unless the insert told them) and the others report that row; the new messages' deliveries in
 * one insert. Any error fails the whole batch (the caller then stores each alone).
 */
async function insertBatch(tx: Db, batch: Push[]): Promise<(Stored | SignatureReplayError)[]> {
  const { callbackSignatures: s, callbackMessages: m } = tx.t;
  const signed = batch.flatMap(({ msg, signature }) =>
    signature === undefined ? [] : [{ app: msg.app, ...signature }],
  );
  const hashes = new Map<string, string>();
  if (signed.length > 0) {
    const inserted = await tx.insertMissing('callbackSignatures', signed);
    // Every one new: each push's own body hash is the one stored, nothing to read.
    const rows =
      inserted === signed.length
        ? signed
        : await tx.select(
            'callbackSignatures',
            pairs(
              signed.map((r) => ({ app: r.app, key: r.signature })),
              s.app,
              s.signature,
            ),
            { columns: ['app', 'signature', 'bodyHash'] },
          );
    for (const r of rows) hashes.set(pairKey(r.app, r.signature), r.bodyHash);
  }
  const refused = batch.map(({ msg, signature }) => {
    if (signature === undefined) return false;
    const stored = hashes.get(pairKey(msg.app, signature.signature));
    if (stored === undefined) throw new Error('remembered signature vanished');
    return stored !== signature.bodyHash;
  });
  // The first push of each dedup key (not refused) is the one stored.
  const firsts = new Map<string, Push>();
  for (const [i, push] of batch.entries()) {
    const k = pairKey(push.msg.app, push.msg.dedupKey);
    if (!refused[i] && !firsts.has(k)) firsts.set(k, push);
  }
  // Inserted at once; should a key be taken (WeChat's retry of a stored push among them), that
  // insert is undone, the taken keys are read and only the others inserted.
  const found = new Map<string, Stored>();
  let added = [...firsts.values()].map((push) => ({ push, row: messageRow(push.msg) }));
  let told = await tx.insertAll(
    'callbackMessages',
    added.map((a) => a.row),
  );
  if (told === 'taken') {
    const keys = added.map(({ row }) => ({ app: row.app, key: row.dedupKey }));
    for (const row of await tx.select('callbackMessages', pairs(keys, m.app, m.dedupKey))) {
      found.set(pairKey(row.app, row.dedupKey), { inserted: false, message: messageRecord(row) });
    }
    added = added.filter(({ row }) => !found.has(pairKey(row.app, row.dedupKey)));
    told = await tx.insertAll(
      'callbackMessages',
      added.map((a) => a.row),
    );
    // Taken since the read (another process), or by a key SQL calls equal and this code not.
    if (told === 'taken') throw new Error('a dedup key was taken meanwhile');
  }
  if (added.length > 0) {
    const rows = added.map((a) => a.row);
    // Their ids: as the insert told them, or read back (this transaction's own rows).
    const idOf = new Map<string, number>();
    if (told === 'inserted') {
      const where = pairs(
        rows.map((r) => ({ app: r.app, key: r.dedupKey })),
        m.app,
        m.dedupKey,
      );
      const read = await tx.select('callbackMessages', where, {
        columns: ['id', 'app', 'dedupKey'],
      });
      for (const r of read) idOf.set(pairKey(r.app, r.dedupKey), r.id);
    } else {
      for (const [i, r] of rows.entries()) {
        const id = told[i];
        if (id !== undefined) idOf.set(pairKey(r.app, r.dedupKey), id);
      }
    }
    const outbox = [];
    for (const [i, row] of rows.entries()) {
      const k = pairKey(row.app, row.dedupKey);
      const id = idOf.get(k);
      const push = added[i]?.push;
      if (id === undefined || push === undefined) throw new Error('stored message vanished');
      outbox.push(...deliveryRows('message', id, push.deliveries, push.now));
      found.set(k, { inserted: true, message: newMessageRecord(id, row, push.msg.parsed) });
    }
    await tx.insert('outbox', outbox);
  }
  return batch.map(({ msg }, i) => {
    if (refused[i]) return new SignatureReplayError();
    const k = pairKey(msg.app, msg.dedupKey);
    const stored = found.get(k);
    if (stored === undefined) throw new Error('stored message vanished');
    // The first push of its key reports what it stored; the others in the batch, that row.
    return firsts.get(k) === batch[i] ? stored : { inserted: false, message: stored.message };
  });
}

/**
 * A batch as it nearly always is — no signature used before, no dedup key stored before, none
 * twice in the batch — in the fewest round trips: its signatures, messages and then deliveries
 * inserted plainly by {@link Db.insertChain} (one round trip, two with deliveries, where
 * {@link insertBatch} takes four or five). Undefined when that cannot be tried; rejects (nothing
 * stored) when it was not so: a signature or key taken, or anything else the database refused.
 */
async function insertAtOnce(db: Db, batch: Push[]): Promise<Stored[] | undefined> {
  if (sharesAKey(batch)) return undefined;
  const rows = batch.map(({ msg }) => messageRow(msg));
  const signed = batch.flatMap(({ msg, signature }) =>
    signature === undefined ? [] : [{ app: msg.app, ...signature }],
  );
  const withDeliveries = batch.some((p) => p.deliveries.length > 0);
  const ids = await db.insertChain(
    [
      { table: 'callbackSignatures', rows: signed },
      { table: 'callbackMessages', rows },
    ],
    withDeliveries
      ? (ids) => [
          {
            table: 'outbox',
            rows: batch.flatMap(({ deliveries, now }, i) => {
              const id = ids[i];
              if (id === undefined) throw new Error('stored message vanished');
              return deliveryRows('message', id, deliveries, now);
            }),
          },
        ]
      : undefined,
  );
  if (ids === undefined) return undefined;
  return rows.map((row, i) => {
    const id = ids[i];
    const push = batch[i];
    if (id === undefined || push === undefined) throw new Error('stored message vanished');
    return { inserted: true, message: newMessageRecord(id, row, push.msg.parsed) };
  });
}

/**
 * Callback messages, stored once per (app, dedup key): the message and its deliveries commit in
 * one transaction; WeChat's retry of a stored message inserts nothing and reports `false`.
 *
 * On a database server, pushes asked to be stored in the same turn of the event loop (a busy
 * message URL's) are stored together by {@link insertBatch}: one transaction of a few multi-row
 * statements instead of two or three statements each, one after the other (each a round trip).
 * None is settled before that transaction has committed. Should it fail (one push's row refused,
 * a deadlock, another process storing one of the keys meanwhile), each push is stored alone.
 */
export function messagesRepo(db: Db, memory = uniqueKeyMemory): MessagesRepo {
  const { callbackMessages: m } = db.t;
  const get = (app: string, dedupKey: string) =>
    db.first('callbackMessages', and(eq(m.app, app), eq(m.dedupKey, dedupKey)));
  const insertOne = ({ msg, deliveries, now, signature }: Push): Promise<Stored> =>
    // Everything happens inside the transaction: were the read of a duplicate a step of its
    // own, a retry of this whole method after a failed read (SQLite's busy retry) would find
    // its own message stored and report it as WeChat's retry. A new row is not read back: it
    // is what was just inserted, with its new id.
    db.transaction(async (tx) => {
      if (signature !== undefined) await memory.remember(tx, msg.app, signature, now);
      const row = messageRow(msg);
      const id = await tx.insertIgnore('callbackMessages', row);
      if (id !== undefined) {
        await tx.insert('outbox', deliveryRows('message', id, deliveries, now));
        return { inserted: true, message: newMessageRecord(id, row, msg.parsed) };
      }
      const first = await tx.first(
        'callbackMessages',
        and(eq(m.app, msg.app), eq(m.dedupKey, msg.dedupKey)),
      );
      if (first === undefined) throw new Error('stored message vanished');
      return { inserted: false, message: messageRecord(first) };
    });

  // Pushes asked to be stored in the same turn of the event loop are stored together.
  const waiting: { push: Push; resolve: (r: Stored) => void; reject: (e: unknown) => void }[] = [];
  const flush = async (batch: typeof waiting): Promise<void> => {
    // The usual case in one round trip, a push alone too.
    const pushes = batch.map((w) => w.push);
    const atOnce = await insertAtOnce(db, pushes).catch(() => undefined);
    if (atOnce !== undefined) {
      for (const [i, w] of batch.entries()) {
        const r = atOnce[i];
        if (r === undefined) w.reject(new Error('push left unsettled'));
        else w.resolve(r);
      }
      return;
    }
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      return insertOne(only.push).then(only.resolve, only.reject);
    }
    let settled: (Stored | SignatureReplayError)[];
    try {
      settled = await db.transaction((tx) => insertBatch(tx, pushes));
    } catch {
      // Rolled back whole (e.g. one push's row refused, or another process stored one of the
      // keys meanwhile): each is stored alone, and settles as it would have.
      await Promise.all(batch.map((w) => insertOne(w.push).then(w.resolve, w.reject)));
      return;
    }
    for (const [i, w] of batch.entries()) {
      const r = settled[i];
      if (r === undefined) w.reject(new Error('push left unsettled'));
      else if (r instanceof SignatureReplayError) w.reject(r);
      else w.resolve(r);
    }
  };

  const enqueue = (push: Push) =>
    new Promise<Stored>((resolve, reject) => {
      waiting.push({ push, resolve, reject });
      if (waiting.length > 1) return;
      // After this turn of the event loop: what else it asked for joins.
      setImmediate(() => {
        const turn = waiting.splice(0);
        if (!sharesAKey(turn.map((w) => w.push))) {
          for (let i = 0; i < turn.length; i += PUSH_BATCH_MAX) {
            void flush(turn.slice(i, i + PUSH_BATCH_MAX));
          }
          return;
        }
        // A retry or replay among them: one batch after the other, so each settles in order.
        void (async () => {
          for (let i = 0; i < turn.length; i += PUSH_BATCH_MAX_IN_ORDER) {
            await flush(turn.slice(i, i + PUSH_BATCH_MAX_IN_ORDER));
          }
        })();
      });
    });

  return {
    // In the process (SQLite) a statement costs no round trip, and the dialect's group commit
    // already shares the commit: each push alone, with its statements built once.
    insert: (msg, deliveries, now, signature) =>
      (db.remote ? enqueue : insertOne)({ msg, deliveries, now, signature }),
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
      const equal = [
        [m.app, q.app],
        [m.msgType, q.msgType],
        [m.event, q.event],
        [m.fromUser, q.fromUser],
      ] as const;
      const rows = await searchReceived(db, 'callbackMessages', equal, q);
      return rows.map(messageRecord);
    },
    async countReceived(from, to) {
      return db.count('callbackMessages', and(gte(m.receivedAt, from), lt(m.receivedAt, to)));
    },
    purgeSignatures: (before, limit) => memory.purge(db, before, limit),
  };
}
