import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './dialect';
import { messagesRepo, PUSH_BATCH_MAX } from './messages';
import { openTestDb, testMessage, testTargets, uniqueName } from './testing';
import type { NewCallbackMessage, NewDelivery, UsedSignature } from './types';
import { SignatureReplayError } from './types';

const NOW = 1_800_000_000_000;

/**
 * `db` (and every transaction on it) noting each statement it is asked for in `calls`; `refuse`
 * makes a write of some rows fail, as the database would refuse one row (e.g. a value too long).
 */
function watched(db: Db, calls: string[], refuse: (rows: object[]) => boolean = () => false): Db {
  // As on a database server (pushes batched) whatever the dialect: the SQL runs on both.
  const failing = (rows: object[]) =>
    refuse(rows) ? Promise.reject(new Error('row refused')) : undefined;
  const wrap = (d: Db): Db => ({
    t: d.t,
    remote: true,
    select: (name, where, q) => {
      calls.push(`select ${name}`);
      return d.select(name, where, q);
    },
    first: (name, where, q) => {
      calls.push(`first ${name}`);
      return d.first(name, where, q);
    },
    count: (name, where) => {
      calls.push(`count ${name}`);
      return d.count(name, where);
    },
    insert: (name, rows) => {
      calls.push(`insert ${name}`);
      return failing(rows) ?? d.insert(name, rows);
    },
    insertIgnore: (name, row) => {
      calls.push(`insertIgnore ${name}`);
      return failing([row]) ?? d.insertIgnore(name, row);
    },
    insertAll: (name, rows) => {
      calls.push(`insertAll ${name}`);
      return failing(rows) ?? d.insertAll(name, rows);
    },
    insertMissing: (name, rows) => {
      calls.push(`insertMissing ${name}`);
      return failing(rows) ?? d.insertMissing(name, rows);
    },
    insertChain: (steps, then) => {
      calls.push(`insertChain ${steps.map((st) => st.table).join(',')}`);
      const watchedThen =
        then === undefined
          ? undefined
          : (ids: number[]) => {
              const more = then(ids);
              if (more.some((st) => refuse(st.rows))) throw new Error('row refused');
              return more;
            };
      return failing(steps.flatMap((st): object[] => st.rows)) ?? d.insertChain(steps, watchedThen);
    },
    upsert: (name, row, conflict) => {
      calls.push(`upsert ${name}`);
      return d.upsert(name, row, conflict);
    },
    update: (name, set, where, q) => {
      calls.push(`update ${name}`);
      return d.update(name, set, where, q);
    },
    delete: (name, where, q) => {
      calls.push(`delete ${name}`);
      return d.delete(name, where, q);
    },
    transaction: (work) => d.transaction((tx) => work(wrap(tx))),
  });
  return wrap(db);
}

const message = (app: string, dedupKey: string, content = 'hello'): NewCallbackMessage =>
  testMessage(app, dedupKey, content, NOW);

/** A delivery; its idempotency key (unique in the whole outbox) is `key` under `app`. */
const delivery = (app: string, key: string): NewDelivery => ({
  owner: 'receiver',
  targetUrl: 'https://example.com/hook',
  idempotencyKey: `${app}/${key}`,
  payload: `{"key":"${key}"}`,
  maxAttempts: 3,
  nextAttemptAt: NOW,
});

const signature = (n: number, body: string): UsedSignature => ({
  signature: String(n).padStart(40, '0'),
  bodyHash: body.repeat(64).slice(0, 64),
  expiresAt: NOW + 300_000,
});

/** What a settled insert reports, in a form to compare. */
const outcome = (r: PromiseSettledResult<{ inserted: boolean; message: { dedupKey: string } }>) =>
  r.status === 'rejected'
    ? r.reason instanceof SignatureReplayError
      ? 'replay'
      : `error: ${String(r.reason)}`
    : `${r.value.inserted ? 'stored' : 'retry'} ${r.value.message.dedupKey}`;

// Pushes stored in the same turn of the event loop are stored together, in a few statements,
// and each settles as it would alone: in order, a retry (same dedup key) reports the first row,
// a used signature with another body is refused with nothing stored.
describe.each(testTargets())('message batches on $name', (target) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(target));
  });
  afterAll(() => close());

  const stored = async (app: string) => {
    const m = db.t.callbackMessages;
    const rows = await db.select('callbackMessages', eq(m.app, app), {
      columns: ['id', 'dedupKey'],
      orderBy: asc(m.id),
    });
    const o = db.t.outbox;
    const ids = rows.map((r) => r.id);
    const outbox =
      ids.length === 0
        ? []
        : await db.select('outbox', and(eq(o.source, 'message'), inArray(o.sourceId, ids)), {
            columns: ['sourceId', 'idempotencyKey'],
          });
    return rows.map((r) => ({
      key: r.dedupKey,
      deliveries: outbox
        .filter((d) => d.sourceId === r.id)
        .map((d) => d.idempotencyKey.slice(app.length + 1)),
    }));
  };

  it('stores 20 concurrent pushes with a handful of statements, not a few per push', async () => {
    const app = uniqueName('batch');
    const calls: string[] = [];
    const repo = messagesRepo(watched(db, calls));
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        repo.insert(message(app, `k${i}`), [delivery(app, `d${i}`)], NOW, signature(i, 'a')),
      ),
    );
    expect(settled.map(outcome)).toEqual(Array.from({ length: 20 }, (_, i) => `stored k${i}`));
    // Each with its delivery (batches stored side by side take ids in the order they commit).
    const byKey = (a: { key: string }, b: { key: string }) =>
      Number(a.key.slice(1)) - Number(b.key.slice(1));
    expect((await stored(app)).sort(byKey)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, deliveries: [`d${i}`] })),
    );
    // Batches of PUSH_BATCH_MAX, each one insertChain (one round trip on MySQL): the
    // statements do not grow with the number of pushes.
    expect(calls).toEqual(
      Array.from(
        { length: Math.ceil(20 / PUSH_BATCH_MAX) },
        () => 'insertChain callbackSignatures,callbackMessages',
      ),
    );
  });

  it('a push alone is one insertChain; its retry alone is answered from the stored row', async () => {
    const app = uniqueName('alone');
    const calls: string[] = [];
    const repo = messagesRepo(watched(db, calls));
    const first = await repo.insert(
      message(app, 'k1'),
      [delivery(app, 'd1')],
      NOW,
      signature(1, 'a'),
    );
    expect(first.inserted).toBe(true);
    expect(calls).toEqual(['insertChain callbackSignatures,callbackMessages']);
    const again = await repo.insert(
      message(app, 'k1'),
      [delivery(app, 'd1')],
      NOW,
      signature(1, 'a'),
    );
    expect(again).toEqual({ inserted: false, message: first.message });
    expect(await stored(app)).toEqual([{ key: 'k1', deliveries: ['d1'] }]);
  });

  it('settles retries and replays inside one batch as one by one, and stores only the first of each', async () => {
    const app = uniqueName('batch');
    const repo = messagesRepo(watched(db, []));
    // Stored before the batch: a message and a signature.
    await repo.insert(message(app, 'old'), [delivery(app, 'old')], NOW, signature(1, 'a'));
    const pushes: Parameters<typeof repo.insert>[] = [
      // WeChat's retry of the stored push: same signature and body.
      [message(app, 'old'), [delivery(app, 'old-again')], NOW, signature(1, 'a')],
      // The stored signature with another body: a replay, nothing of it stored.
      [message(app, 'replayed'), [delivery(app, 'replayed')], NOW, signature(1, 'b')],
      // A new push, then its retry in the same batch.
      [message(app, 'new'), [delivery(app, 'new')], NOW, signature(2, 'a')],
      [message(app, 'new'), [delivery(app, 'new-again')], NOW, signature(2, 'a')],
      // A new signature used twice in the batch with two bodies: the first wins.
      [message(app, 'first'), [delivery(app, 'first')], NOW, signature(3, 'a')],
      [message(app, 'second'), [delivery(app, 'second')], NOW, signature(3, 'c')],
      // A refused push's dedup key stays free for a later push of the batch.
      [message(app, 'replayed'), [delivery(app, 'replayed-ok')], NOW, signature(4, 'a')],
      // No signature (a CloudRun push): the dedup key alone.
      [message(app, 'unsigned'), [], NOW, undefined],
      [message(app, 'unsigned'), [], NOW, undefined],
    ];
    const settled = await Promise.allSettled(pushes.map((p) => repo.insert(...p)));
    expect(settled.map(outcome)).toEqual([
      'retry old',
      'replay',
      'stored new',
      'retry new',
      'stored first',
      'replay',
      'stored replayed',
      'stored unsigned',
      'retry unsigned',
    ]);
    // A retry reports the first row: its id, as stored.
    const ids = settled.map((r) => (r.status === 'fulfilled' ? r.value.message.id : undefined));
    expect(ids[3]).toBe(ids[2]);
    expect(ids[8]).toBe(ids[7]);
    expect(await stored(app)).toEqual([
      { key: 'old', deliveries: ['old'] },
      { key: 'new', deliveries: ['new'] },
      { key: 'first', deliveries: ['first'] },
      { key: 'replayed', deliveries: ['replayed-ok'] },
      { key: 'unsigned', deliveries: [] },
    ]);
    // The same, one by one, with a fresh app: the batch answered what these answer.
    const alone = uniqueName('alone');
    const one = messagesRepo(db);
    await one.insert(message(alone, 'old'), [delivery(alone, 'old')], NOW, signature(1, 'a'));
    const oneByOne: string[] = [];
    for (const [msg, deliveries, now, sig] of pushes) {
      const [r] = await Promise.allSettled([
        one.insert(
          { ...msg, app: alone },
          deliveries.map((d) => ({ ...d, idempotencyKey: `${alone}${d.idempotencyKey}` })),
          now,
          sig,
        ),
      ]);
      if (r !== undefined) oneByOne.push(outcome(r));
    }
    expect(oneByOne).toEqual(settled.map(outcome));
  });

  it('a push the database refuses fails alone: the others of its batch are stored and answered', async () => {
    const app = uniqueName('batch');
    const poisoned = (rows: object[]) =>
      rows.some((r) => 'dedupKey' in r && r.dedupKey === 'poison');
    const repo = messagesRepo(watched(db, [], poisoned));
    const keys = ['a', 'b', 'poison', 'c', 'a'];
    const settled = await Promise.allSettled(
      keys.map((k, i) =>
        repo.insert(message(app, k), [delivery(app, k)], NOW, signature(10 + i, 'a')),
      ),
    );
    expect(settled.map(outcome)).toEqual([
      'stored a',
      'stored b',
      'error: Error: row refused',
      'stored c',
      'retry a',
    ]);
    expect(await stored(app)).toEqual([
      { key: 'a', deliveries: ['a'] },
      { key: 'b', deliveries: ['b'] },
      { key: 'c', deliveries: ['c'] },
    ]);
  });
});
