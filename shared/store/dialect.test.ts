import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, like } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryRows, messageRow } from './codec';
import type { Db } from './dialect';
import { messagesRepo } from './messages';
import { openTestDb, openTestStore, testTargets, uniqueName } from './testing';
import { SignatureReplayError } from './types';

/** A used-signature row numbered `n` (the group-commit tests insert them). */
const row = (app: string, n: number) => ({
  app,
  signature: `sig-${n}`,
  bodyHash: `hash-${n}`,
  expiresAt: n,
});

/** The stored signatures of `app`, oldest first. */
async function stored(db: Db, app: string): Promise<string[]> {
  const s = db.t.callbackSignatures;
  const rows = await db.select('callbackSignatures', eq(s.app, app), {
    columns: ['signature'],
    orderBy: asc(s.expiresAt),
  });
  return rows.map((r) => r.signature);
}

// The operations on which the dialects differ, held to one behaviour: every repository relies
// on it (store.contract.test.ts covers them through the repositories).
describe.each(testTargets())('dialect adapter on $name', (target) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(target));
  });
  afterAll(() => close());

  const signature = (app: string, n: number) => ({
    app,
    signature: `sig-${n}`,
    bodyHash: `hash-${n}`,
    expiresAt: n,
  });
  const signatures = async (app: string) => {
    const s = db.t.callbackSignatures;
    const rows = await db.select('callbackSignatures', eq(s.app, app), {
      columns: ['signature', 'bodyHash'],
      orderBy: asc(s.expiresAt),
    });
    return rows.map((r) => `${r.signature}:${r.bodyHash}`);
  };

  it('insertIgnore returns the new id, then undefined for a duplicate key, and the transaction goes on', async () => {
    const app = uniqueName();
    const committed = await db.transaction(async (tx) => {
      const id = await tx.insertIgnore('callbackSignatures', signature(app, 1));
      const again = await tx.insertIgnore('callbackSignatures', signature(app, 1));
      await tx.insert('callbackSignatures', [signature(app, 2)]);
      return { id, again };
    });
    expect(committed.id).toBeTypeOf('number');
    expect(committed.again).toBeUndefined();
    const s = db.t.callbackSignatures;
    const first = await db.first('callbackSignatures', and(eq(s.app, app), eq(s.expiresAt, 1)));
    expect(first?.id).toBe(committed.id);
    expect(await signatures(app)).toEqual(['sig-1:hash-1', 'sig-2:hash-2']);
  });

  it('update and delete with a limit touch only the first rows in order, and count them', async () => {
    const app = uniqueName();
    await db.insert(
      'callbackSignatures',
      [3, 1, 4, 2].map((n) => signature(app, n)),
    );
    const s = db.t.callbackSignatures;
    const first = { orderBy: asc(s.expiresAt), limit: 2 };
    expect(await db.update('callbackSignatures', { bodyHash: 'x' }, eq(s.app, app), first)).toBe(2);
    expect(await signatures(app)).toEqual(['sig-1:x', 'sig-2:x', 'sig-3:hash-3', 'sig-4:hash-4']);
    expect(await db.delete('callbackSignatures', eq(s.app, app), { ...first, limit: 3 })).toBe(3);
    expect(await signatures(app)).toEqual(['sig-4:hash-4']);
    expect(await db.count('callbackSignatures', eq(s.app, app))).toBe(1);
  });

  it('upsert updates the existing row with set, and leaves it as it is without', async () => {
    const app = uniqueName();
    const target = ['app', 'signature'] as const;
    await db.upsert('callbackSignatures', signature(app, 1), { target });
    await db.upsert('callbackSignatures', { ...signature(app, 1), bodyHash: 'y' }, { target });
    expect(await signatures(app)).toEqual(['sig-1:hash-1']);
    const set = { bodyHash: 'z' };
    await db.upsert('callbackSignatures', { ...signature(app, 1), bodyHash: 'y' }, { target, set });
    expect(await signatures(app)).toEqual(['sig-1:z']);
  });

  it('insertMissing inserts the new rows, keeps the row of a taken key (the first given wins), and counts the new ones', async () => {
    const app = uniqueName();
    await db.insert('callbackSignatures', [signature(app, 1)]);
    const rows = [
      { ...signature(app, 1), bodyHash: 'other' },
      signature(app, 2),
      signature(app, 3),
      { ...signature(app, 3), bodyHash: 'later' },
    ];
    const inserted = await db.transaction((tx) => tx.insertMissing('callbackSignatures', rows));
    expect(await signatures(app)).toEqual(['sig-1:hash-1', 'sig-2:hash-2', 'sig-3:hash-3']);
    expect(inserted).toBe(2);
    expect(
      await db.insertMissing('callbackSignatures', [signature(app, 4), signature(app, 5)]),
    ).toBe(2);
    expect(await db.insertMissing('callbackSignatures', [])).toBe(0);
    expect(await signatures(app)).toHaveLength(5);
  });

  it('insertAll inserts the rows in one statement and tells their ids right, or none when a key is taken', async () => {
    const app = uniqueName();
    const three = [signature(app, 1), signature(app, 2), signature(app, 3)];
    const ids = await db.transaction((tx) => tx.insertAll('callbackSignatures', three));
    const s = db.t.callbackSignatures;
    const rows = await db.select('callbackSignatures', eq(s.app, app), {
      columns: ['id', 'signature'],
      orderBy: asc(s.expiresAt),
    });
    expect(rows.map((r) => r.signature)).toEqual(['sig-1', 'sig-2', 'sig-3']);
    // Told on MySQL with consecutive auto-increment values (MariaDB's defaults), never on SQLite.
    if (target.name === 'sqlite') expect(ids).toBe('inserted');
    if (ids !== 'inserted') expect(ids).toEqual(rows.map((r) => r.id));
    // One taken key: none inserted, and the transaction goes on.
    const after = await db.transaction(async (tx) => {
      const taken = await tx.insertAll('callbackSignatures', [
        signature(app, 4),
        signature(app, 2),
      ]);
      const twice = await tx.insertAll('callbackSignatures', [
        signature(app, 5),
        signature(app, 5),
      ]);
      await tx.insert('callbackSignatures', [signature(app, 6)]);
      return [taken, twice];
    });
    expect(after).toEqual(['taken', 'taken']);
    expect(await signatures(app)).toEqual([
      'sig-1:hash-1',
      'sig-2:hash-2',
      'sig-3:hash-3',
      'sig-6:hash-6',
    ]);
  });

  /** A message row of `app` with dedup key `key` (for insertChain). */
  const messageOf = (app: string, key: string) =>
    messageRow({
      app,
      dedupKey: key,
      receivedAt: 1,
      format: 'xml',
      encrypted: false,
      raw: `<xml>${key}</xml>`,
      parsed: { Content: key },
    });
  const deliveryOf = (app: string, id: number, key: string) =>
    deliveryRows(
      'message',
      id,
      [
        {
          owner: 'receiver',
          targetUrl: 'https://example.com/hook',
          idempotencyKey: `${app}/${key}`,
          payload: '{}',
          maxAttempts: 3,
          nextAttemptAt: 1,
        },
      ],
      1,
    );
  const messages = async (app: string) => {
    const m = db.t.callbackMessages;
    const rows = await db.select('callbackMessages', eq(m.app, app), {
      columns: ['id', 'dedupKey'],
      orderBy: asc(m.id),
    });
    return rows.map((r) => `${r.id}:${r.dedupKey}`);
  };
  const deliveries = async (app: string) => {
    const o = db.t.outbox;
    const rows = await db.select('outbox', like(o.idempotencyKey, `${app}/%`), {
      columns: ['sourceId', 'idempotencyKey'],
      orderBy: asc(o.id),
    });
    return rows.map((r) => `${r.sourceId}:${r.idempotencyKey.slice(app.length + 1)}`);
  };

  it('insertChain inserts every step, tells the ids of the last step in order, and hands them to then', async () => {
    const app = uniqueName();
    const ids = await db.insertChain(
      [
        { table: 'callbackSignatures', rows: [signature(app, 1), signature(app, 2)] },
        { table: 'callbackMessages', rows: ['a', 'b', 'c'].map((k) => messageOf(app, k)) },
      ],
      (told) => [
        {
          table: 'outbox',
          rows: told.flatMap((id, i) => deliveryOf(app, id, `d${i}`)),
        },
      ],
    );
    expect(await signatures(app)).toEqual(['sig-1:hash-1', 'sig-2:hash-2']);
    const stored = await messages(app);
    expect(stored.map((m) => m.split(':')[1])).toEqual(['a', 'b', 'c']);
    expect(ids?.map((id, i) => `${id}:${['a', 'b', 'c'][i]}`)).toEqual(stored);
    expect(await deliveries(app)).toEqual(ids?.map((id, i) => `${id}:d${i}`));
    // An empty step is no statement; without then, nothing follows.
    const more = await db.insertChain([
      { table: 'callbackSignatures', rows: [] },
      { table: 'callbackMessages', rows: [messageOf(app, 'd')] },
    ]);
    expect(more).toHaveLength(1);
    expect(await messages(app)).toHaveLength(4);
  });

  it('insertChain stores nothing of any step when one row is refused, and the database goes on', async () => {
    const app = uniqueName();
    await db.insert('callbackMessages', [messageOf(app, 'taken')]);
    const chains = [
      // A taken key in the last step.
      db.insertChain([
        { table: 'callbackSignatures', rows: [signature(app, 1)] },
        { table: 'callbackMessages', rows: [messageOf(app, 'new'), messageOf(app, 'taken')] },
      ]),
      // The same key twice in one step.
      db.insertChain([
        { table: 'callbackSignatures', rows: [signature(app, 2), signature(app, 2)] },
        { table: 'callbackMessages', rows: [messageOf(app, 'new2')] },
      ]),
      // Then's rows refused (a taken idempotency key): the steps before are undone too.
      db.insertChain(
        [
          { table: 'callbackSignatures', rows: [signature(app, 3)] },
          { table: 'callbackMessages', rows: [messageOf(app, 'new3'), messageOf(app, 'new4')] },
        ],
        (told) => told.map(() => ({ table: 'outbox', rows: deliveryOf(app, 1, 'same') })),
      ),
      // Then throws.
      db.insertChain([{ table: 'callbackMessages', rows: [messageOf(app, 'new5')] }], () => {
        throw new Error('then failed');
      }),
    ];
    const settled = await Promise.allSettled(chains);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    // More chains than the connections they run on: none finds a transaction left open (it would
    // commit what the failed chains had inserted).
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        db.insertChain([{ table: 'callbackSignatures', rows: [signature(app, 10 + i)] }]),
      ),
    );
    expect((await messages(app)).map((m) => m.split(':')[1])).toEqual(['taken']);
    expect(await signatures(app)).toEqual(
      Array.from({ length: 6 }, (_, i) => `sig-${10 + i}:hash-${10 + i}`),
    );
    expect(await deliveries(app)).toEqual([]);
  });

  it('insertChain inside a transaction is part of it', async () => {
    const app = uniqueName();
    const failed = db.transaction(async (tx) => {
      await tx.insertChain([{ table: 'callbackMessages', rows: [messageOf(app, 'a')] }]);
      throw new Error('roll back');
    });
    await expect(failed).rejects.toThrow('roll back');
    const ids = await db.transaction((tx) =>
      tx.insertChain([{ table: 'callbackMessages', rows: [messageOf(app, 'b')] }]),
    );
    expect(await messages(app)).toEqual([`${ids?.[0]}:b`]);
  });

  it('a transaction that throws rolls back; a statement issued meanwhile neither joins it nor is lost', async () => {
    const app = uniqueName();
    let meanwhile: Promise<void> | undefined;
    const failed = db.transaction(async (tx) => {
      await tx.insert('callbackSignatures', [signature(app, 1)]);
      meanwhile = db.insert('callbackSignatures', [signature(app, 2)]);
      await sleep(5);
      throw new Error('roll back');
    });
    await expect(failed).rejects.toThrow('roll back');
    await meanwhile;
    expect(await signatures(app)).toEqual(['sig-2:hash-2']);
  });

  it('concurrent transactions each commit whole', async () => {
    const app = uniqueName();
    await Promise.all(
      [1, 3, 5].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [signature(app, n)]);
          await sleep(1);
          await tx.insert('callbackSignatures', [signature(app, n + 1)]);
        }),
      ),
    );
    expect(await db.count('callbackSignatures', eq(db.t.callbackSignatures.app, app))).toBe(6);
  });
});

// SQLite's group commit (dialects/sqlite.ts): what is asked for in one turn of the event loop
// shares one COMMIT (one fsync), each transaction still whole, rolled back alone, and settled
// only once that COMMIT returned.
describe('SQLite group commit', () => {
  const target = testTargets()[0];
  let db: Db;
  let commits: string[];
  let failCommit = false;
  let close: () => Promise<void>;
  beforeAll(async () => {
    if (target === undefined) throw new Error('no SQLite target');
    const { store, handle } = await openTestStore(target);
    if (handle.dialect !== 'sqlite') throw new Error('expected SQLite');
    const exec = handle.sqlite.exec.bind(handle.sqlite);
    handle.sqlite.exec = (source: string) => {
      if (source === 'COMMIT') {
        commits.push(source);
        if (failCommit) {
          failCommit = false;
          throw new Error('disk I/O error');
        }
      }
      return exec(source);
    };
    db = (await import('./dialects/sqlite')).sqliteDb(handle);
    close = () => store.close();
  });
  afterAll(() => close());

  it('transactions and single writes asked for together share one commit', async () => {
    const app = uniqueName();
    commits = [];
    await Promise.all([
      ...[1, 3, 5].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [row(app, n)]);
          await tx.insert('callbackSignatures', [row(app, n + 1)]);
        }),
      ),
      db.insert('callbackSignatures', [row(app, 7)]),
      db.insertIgnore('callbackSignatures', row(app, 8)),
    ]);
    expect(commits).toHaveLength(1);
    expect(await stored(db, app)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `sig-${n}`));
  });

  it('while transactions keep coming, the commit waits a turn of the event loop for them', async () => {
    const app = uniqueName();
    commits = [];
    const insert = (n: number) => db.insert('callbackSignatures', [row(app, n)]);
    const first = [insert(1), insert(2)];
    // Asked for in the next turn, after the commit was first due: several were already waiting.
    const later = await new Promise<Promise<void>>((resolve) =>
      setImmediate(() => resolve(insert(3))),
    );
    await Promise.all([...first, later]);
    expect(commits).toHaveLength(1);
    expect(await stored(db, app)).toEqual(['sig-1', 'sig-2', 'sig-3']);
    // One on its own is not held back: it commits in the turn after it was asked for.
    commits = [];
    await insert(4);
    expect(commits).toHaveLength(1);
  });

  it('a transaction that throws is rolled back alone; the others of its commit stay', async () => {
    const app = uniqueName();
    commits = [];
    const results = await Promise.allSettled(
      [1, 3, 5].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [row(app, n)]);
          // A duplicate key: the statement fails after the first insert of this transaction.
          await tx.insert('callbackSignatures', [row(app, n === 3 ? 3 : n + 1)]);
          return n;
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(commits).toHaveLength(1);
    expect(await stored(db, app)).toEqual(['sig-1', 'sig-2', 'sig-5', 'sig-6']);
  });

  it('when the commit fails, every transaction of it fails and nothing is stored', async () => {
    const app = uniqueName();
    commits = [];
    failCommit = true;
    const results = await Promise.allSettled([
      db.transaction((tx) => tx.insert('callbackSignatures', [row(app, 1)])),
      db.insert('callbackSignatures', [row(app, 2)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await stored(db, app)).toEqual([]);
    // The connection is usable again.
    await db.insert('callbackSignatures', [row(app, 3)]);
    expect(await stored(db, app)).toEqual(['sig-3']);
  });
});

// A server or proxy that does not take several statements in one query: insertChain finds out
// on its first chain and goes statement by statement, with the same results.
describe.each(testTargets().filter((t) => t.name === 'mysql'))(
  'insertChain without multi-statement queries',
  (target) => {
    it('stores every chain whole, the first one included', async () => {
      const { store, handle } = await openTestStore(target);
      try {
        if (handle.dialect !== 'mysql') throw new Error('expected MySQL');
        // The ordinary pool stands in for the scripts: the server refuses its multi-statement text.
        const db = (await import('./dialects/mysql')).mysqlDb(handle.db, handle.pool);
        const app = uniqueName();
        for (const n of [1, 2]) {
          const ids = await db.insertChain([
            { table: 'callbackSignatures', rows: [row(app, n)] },
            { table: 'callbackSignatures', rows: [row(app, n + 10), row(app, n + 20)] },
          ]);
          expect(ids).toHaveLength(2);
        }
        expect(await stored(db, app)).toEqual([
          'sig-1',
          'sig-2',
          'sig-11',
          'sig-12',
          'sig-21',
          'sig-22',
        ]);
        await expect(
          db.insertChain([{ table: 'callbackSignatures', rows: [row(app, 1)] }]),
        ).rejects.toThrow();
        expect(await stored(db, app)).toHaveLength(6);
      } finally {
        await store.close();
      }
    });
  },
);

// MySQL's group commit (dialects/mysql.ts): transactions asked for in one turn of the event loop
// run in turn on one connection and share one BEGIN … COMMIT; when one throws, the batch is
// rolled back and each runs again on its own.
describe.each(testTargets().filter((t) => t.name === 'mysql'))('MySQL group commit', (target) => {
  let db: Db;
  let statements: string[];
  let failCommit = false;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const { store, handle } = await openTestStore(target);
    if (handle.dialect !== 'mysql') throw new Error('expected MySQL');
    // The same pool, with every statement seen (and a COMMIT failed on demand) on its way out.
    const logged = drizzle({
      client: handle.pool,
      logger: {
        logQuery(query: string) {
          statements.push(query.toLowerCase());
          if (query.toLowerCase() === 'commit' && failCommit) {
            failCommit = false;
            throw new Error('commit failed');
          }
        },
      },
    });
    db = (await import('./dialects/mysql')).mysqlDb(logged);
    close = () => store.close();
  });
  afterAll(() => close());

  const counted = (word: string) => statements.filter((s) => s === word).length;

  it('transactions asked for together share one BEGIN and one COMMIT', async () => {
    const app = uniqueName();
    statements = [];
    await Promise.all(
      [1, 3, 5].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [row(app, n)]);
          await tx.insert('callbackSignatures', [row(app, n + 1)]);
        }),
      ),
    );
    expect([counted('begin'), counted('commit')]).toEqual([1, 1]);
    expect(await stored(db, app)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `sig-${n}`));
    // One on its own runs as it always did.
    statements = [];
    await db.transaction((tx) => tx.insert('callbackSignatures', [row(app, 7)]));
    expect([counted('begin'), counted('commit')]).toEqual([1, 1]);
  });

  it('a transaction that throws is rolled back alone; the others of its batch stay', async () => {
    const app = uniqueName();
    statements = [];
    const results = await Promise.allSettled(
      [1, 3, 5].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [row(app, n)]);
          // A duplicate key: the statement fails after the first insert of this transaction.
          await tx.insert('callbackSignatures', [row(app, n === 3 ? 3 : n + 1)]);
          return n;
        }),
      ),
    );
    expect(results).toMatchObject([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected' },
      { status: 'fulfilled', value: 5 },
    ]);
    // The batch rolled back, then each on its own: two commits, one more rollback.
    expect([counted('begin'), counted('rollback'), counted('commit')]).toEqual([4, 2, 2]);
    expect(await stored(db, app)).toEqual(['sig-1', 'sig-2', 'sig-5', 'sig-6']);
  });

  it('when the commit fails, every transaction of it fails and nothing is stored', async () => {
    const app = uniqueName();
    statements = [];
    failCommit = true;
    const results = await Promise.allSettled(
      [1, 2].map((n) => db.transaction((tx) => tx.insert('callbackSignatures', [row(app, n)]))),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(counted('commit')).toBe(1);
    expect(await stored(db, app)).toEqual([]);
    await db.transaction((tx) => tx.insert('callbackSignatures', [row(app, 3)]));
    expect(await stored(db, app)).toEqual(['sig-3']);
  });

  it("WeChat's retry in the same batch is told apart, and so is a replayed signature", async () => {
    const app = uniqueName();
    const messages = messagesRepo(db);
    const push = (dedupKey: string, bodyHash: string) =>
      messages.insert(
        {
          app,
          dedupKey,
          receivedAt: 1,
          format: 'xml',
          encrypted: false,
          raw: '<xml/>',
          parsed: {},
          msgType: 'text',
          createTime: 1,
        },
        [],
        1,
        { signature: `sig-${dedupKey}`, bodyHash, expiresAt: 2 },
      );
    statements = [];
    const [first, retry, other] = await Promise.all([
      push('m1', 'body-1'),
      push('m1', 'body-1'),
      push('m2', 'body-2'),
    ]);
    expect(counted('commit')).toBe(1);
    expect([first.inserted, retry.inserted, other.inserted]).toEqual([true, false, true]);
    expect(retry.message.id).toBe(first.message.id);
    // The same signature with another body, in the batch of its first delivery: refused.
    statements = [];
    const [again, replay] = await Promise.allSettled([
      push('m3', 'body-3'),
      messages.insert(
        {
          app,
          dedupKey: 'm4',
          receivedAt: 1,
          format: 'xml',
          encrypted: false,
          raw: '<xml/>',
          parsed: {},
          msgType: 'text',
          createTime: 1,
        },
        [],
        1,
        { signature: 'sig-m3', bodyHash: 'body-4', expiresAt: 2 },
      ),
    ]);
    expect(again).toMatchObject({ status: 'fulfilled', value: { inserted: true } });
    expect(replay).toMatchObject({ status: 'rejected' });
    if (replay?.status === 'rejected') expect(replay.reason).toBeInstanceOf(SignatureReplayError);
    expect(await messages.count(app)).toBe(3);
  });

  it("a batch InnoDB rolled back (a deadlock's victim) runs again, each transaction on its own", async () => {
    const app = uniqueName();
    statements = [];
    let deadlocks = 1;
    await Promise.all(
      [1, 2, 3].map((n) =>
        db.transaction(async (tx) => {
          await tx.insert('callbackSignatures', [row(app, n)]);
          if (n === 2 && deadlocks-- > 0) {
            throw Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' });
          }
        }),
      ),
    );
    // The batch rolled back, then three transactions of one.
    expect(counted('rollback')).toBe(1);
    expect(counted('commit')).toBe(3);
    expect(await stored(db, app)).toEqual(['sig-1', 'sig-2', 'sig-3']);
  });
});

// SQLite's one-row inserts (dialects/sqlite.ts) are built by drizzle once per table and set of
// columns, their values bound as placeholders: each value still goes through its column's
// mapping, and a column left out still takes its SQL default.
describe.each(testTargets().filter((t) => t.name === 'sqlite'))(
  'SQLite one-row inserts',
  (target) => {
    let db: Db;
    let built: number;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const { store, handle } = await openTestStore(target);
      if (handle.dialect !== 'sqlite') throw new Error('expected SQLite');
      const insert = handle.db.insert.bind(handle.db);
      handle.db.insert = ((t: Parameters<typeof insert>[0]) => {
        built += 1;
        return insert(t);
      }) as typeof insert;
      db = (await import('./dialects/sqlite')).sqliteDb(handle);
      close = () => store.close();
    });
    afterAll(() => close());

    const delivery = (owner: string, n: number) => ({
      source: 'message',
      sourceId: n,
      owner,
      targetUrl: `http://127.0.0.1:9/${n}`,
      idempotencyKey: `${owner}-${n}`,
      payload: '{}',
      status: 'pending',
      maxAttempts: 3,
      nextAttemptAt: n,
      createdAt: n,
      updatedAt: n,
    });

    it('builds each shape once; values are mapped and left-out columns take their default', async () => {
      const owner = uniqueName();
      built = 0;
      await db.insert('outbox', [delivery(owner, 1)]);
      await db.insert('outbox', [{ ...delivery(owner, 2), lockedBy: undefined }]);
      expect(await db.insertIgnore('outbox', delivery(owner, 3))).toBeTypeOf('number');
      expect(await db.insertIgnore('outbox', delivery(owner, 3))).toBeUndefined();
      await db.insert('outbox', [{ ...delivery(owner, 4), attempts: 2, lockedBy: 'w' }]);
      // One insert and one insert-or-ignore of the first shape, one of the second.
      expect(built).toBe(3);
      const o = db.t.outbox;
      const rows = await db.select('outbox', eq(o.owner, owner), {
        columns: ['sourceId', 'attempts', 'lockedBy'],
        orderBy: asc(o.sourceId),
      });
      expect(rows).toEqual([
        { sourceId: 1, attempts: 0, lockedBy: null },
        { sourceId: 2, attempts: 0, lockedBy: null },
        { sourceId: 3, attempts: 0, lockedBy: null },
        { sourceId: 4, attempts: 2, lockedBy: 'w' },
      ]);
      const app = uniqueName();
      const message = (dedupKey: string, encrypted: boolean) => ({
        app,
        dedupKey,
        receivedAt: 1,
        format: 'xml',
        encrypted,
        raw: '<xml/>',
        parsed: '{}',
        msgType: 'text',
        createTime: 1,
      });
      await db.insertIgnore('callbackMessages', message('m1', true));
      await db.insertIgnore('callbackMessages', message('m2', false));
      const m = db.t.callbackMessages;
      const stored = await db.select('callbackMessages', eq(m.app, app), {
        columns: ['dedupKey', 'encrypted'],
        orderBy: asc(m.dedupKey),
      });
      expect(stored).toEqual([
        { dedupKey: 'm1', encrypted: true },
        { dedupKey: 'm2', encrypted: false },
      ]);
    });
  },
);
