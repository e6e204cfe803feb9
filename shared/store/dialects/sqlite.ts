import { accessSync, constants } from 'node:fs';
import type { Database as BetterSqlite3Database, RunResult, Statement } from 'better-sqlite3';
import { count, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SecretBox } from '../../crypto/secret-box';
import type { SqliteHandle } from '../../db/client';
import type * as schema from '../../db/schema/sqlite';
import { buildSqliteTable } from '../../db/schema/sqlite-build';
import type { Column, TableSpec } from '../../db/tables/columns';
import * as declared from '../../db/tables/index';
import { DEFAULT_BUSY_BUDGET_MS, retryingRepo } from '../busy';
import { createCodec } from '../codec';
import {
  type Bounded,
  type Db,
  orderings,
  pick,
  type Row,
  type TableName,
  type Tables,
} from '../dialect';
import { primaryReader, type ReaderStore } from '../reader';
import { repositories } from '../repositories';
import type { Store } from '../types';
import { type Filler, placeholderFiller } from './fill';
import { signatureMemoryOf } from './sqlite-replay';

export interface SqliteStoreOptions {
  /** Longest total wait for another connection's write lock before a 503 (default 5 s). */
  busyBudgetMs?: number;
}

/**
 * The {@link Store} over an embedded SQLite database. better-sqlite3 is synchronous, so SQLite's
 * own `busy_timeout` would stall the whole process while another connection holds the write lock:
 * it is set to 0 here and every repository method is retried asynchronously instead
 * ({@link retryingRepo}), within `busyBudgetMs`.
 */
export function createSqliteStore(
  h: SqliteHandle,
  box: SecretBox,
  opts: SqliteStoreOptions = {},
): Store {
  h.sqlite.pragma('busy_timeout = 0');
  const budget = opts.busyBudgetMs ?? DEFAULT_BUSY_BUDGET_MS;
  const db = sqliteDb(h);
  const repos = repositories(
    db,
    createCodec(box),
    (repo) => retryingRepo(repo, budget),
    () => signatureMemoryOf(h.sqlite),
  );
  let reader: ReaderStore | undefined;
  const base: Pick<Store, 'dialect' | 'ping' | 'probeWrite' | 'close' | 'reader'> = {
    dialect: 'sqlite',
    // SQLite has no replica: the reads that may lag are the repositories' own.
    get reader() {
      reader ??= primaryReader(repos);
      return reader;
    },
    async ping() {
      h.sqlite.prepare('SELECT 1').get();
    },
    async probeWrite() {
      // A deleted file still takes writes (into the unlinked inode, lost at the next start).
      if (!h.sqlite.memory) {
        try {
          accessSync(h.sqlite.name, constants.R_OK | constants.W_OK);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          throw new Error(
            code === 'ENOENT' ? 'the database file is gone' : 'the database file is not writable',
          );
        }
      }
      await repos.counters.probe();
    },
    close: () => h.close(),
  };
  // The repositories' getters are kept, not spread (which would make every repository now):
  // each is made on its first use. The cast: defineProperties cannot type what it adds.
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(repos)) as Store;
}

// The SQLite tables declare the same names, columns and value types as the logical tables the
// repositories are typed with (checked here: a mismatch in any table's row is a type error), so
// they stand for them; drizzle renders each column by its own (SQLite) table at run time.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Sqlite = typeof schema;
type Mismatched = {
  [K in TableName]: Same<Sqlite[K]['$inferSelect'], Row<K>> extends true ? never : K;
}[TableName];
const rowsMatch: [Mismatched] extends [never] ? true : Mismatched = true;
void rowsMatch;

// Each table is built on its first use, from the declaration ../../db/schema/sqlite.ts builds it
// from (same builder, same table): a cold start builds only the tables it touches. As in the
// MySQL adapter, the builders see a plain SQLiteTable, rows are typed by `Row<K>`.
// The declarations differ in columns, which the builder's types follow; a table is only ever
// seen as a plain SQLiteTable here.
const specs = { ...declared } as unknown as Record<
  TableName,
  TableSpec<string, Record<string, Column>>
>;
const built = new Map<TableName, SQLiteTable>();
const table = (name: TableName): SQLiteTable => {
  let t = built.get(name);
  if (t === undefined) {
    t = buildSqliteTable(specs[name]);
    built.set(name, t);
  }
  return t;
};
const tables = Object.defineProperties(
  {},
  Object.fromEntries(
    (Object.keys(specs) as TableName[]).map((name) => [
      name,
      { enumerable: true, get: () => table(name) },
    ]),
  ),
) as Tables;

/** Most transactions one commit covers (see {@link sqliteDb}). */
export const GROUP_COMMIT_MAX = 64;
/** Most extra turns of the event loop a commit waits for while transactions keep arriving. */
const GROUP_COMMIT_TURNS = 2;

interface Queued {
  work: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * better-sqlite3 runs each statement synchronously, and drizzle's transactions on it are
 * synchronous too (an async callback is refused), so a transaction here is `BEGIN IMMEDIATE` …
 * `COMMIT` on the connection around an async callback. The connection is one per process: while
 * a transaction is open every other statement of this handle waits for it (`gate`), so nothing
 * else joins or sees it.
 *
 * Group commit: a `COMMIT` with `synchronous=FULL` waits for the disk (fsync), on the event loop's
 * thread. Transactions asked for in the same turn of the event loop (a turn or two more while they
 * keep coming) — and every write made outside a transaction, as a transaction of its own — run one
 * after the other inside one `BEGIN
 * IMMEDIATE` … `COMMIT`, each in a `SAVEPOINT` of its own: one that throws is rolled back to its
 * savepoint alone, and none is resolved before the `COMMIT` has returned, so each is as durable
 * and as isolated as it was alone (they run in turn; only the fsync is shared). Should SQLite
 * abandon the transaction (a disk error) or the `COMMIT` fail, every one of them fails.
 */
export function sqliteDb(h: SqliteHandle): Db {
  const gate: { open?: Promise<void> } = {};
  // Runs a statement once no transaction is open: checked right before it runs, with no pause
  // in between in which one could begin.
  const outside = async <T>(statement: () => T): Promise<T> => {
    while (gate.open !== undefined) await gate.open;
    return statement();
  };
  // In the transaction: at once.
  const inside = async <T>(statement: () => T): Promise<T> => statement();
  const tx: Db = { ...statements(h.db, h.sqlite, inside), transaction: (work) => work(tx) };
  const queue: Queued[] = [];
  let scheduled = false;

  /** Runs one batch of queued transactions under one commit. */
  const runBatch = async (batch: Queued[]): Promise<void> => {
    const done: { item: Queued; value: unknown }[] = [];
    try {
      h.sqlite.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    try {
      for (const [i, item] of batch.entries()) {
        h.sqlite.exec('SAVEPOINT tx');
        try {
          const value = await item.work(tx);
          h.sqlite.exec('RELEASE tx');
          done.push({ item, value });
        } catch (err) {
          if (!h.sqlite.inTransaction) {
            // SQLite rolled the whole transaction back: the ones before are gone too, and the
            // ones after have not run (they go first in the next batch).
            item.reject(err);
            queue.unshift(...batch.slice(i + 1));
            throw err;
          }
          h.sqlite.exec('ROLLBACK TO tx');
          h.sqlite.exec('RELEASE tx');
          item.reject(err);
        }
      }
      h.sqlite.exec('COMMIT');
    } catch (err) {
      if (h.sqlite.inTransaction) h.sqlite.exec('ROLLBACK');
      for (const { item } of done) item.reject(err);
      return;
    }
    for (const { item, value } of done) item.resolve(value);
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      while (gate.open !== undefined) await gate.open;
      let release = () => {};
      gate.open = new Promise((resolve) => {
        release = resolve;
      });
      try {
        await runBatch(queue.splice(0, GROUP_COMMIT_MAX));
      } finally {
        gate.open = undefined;
        release();
      }
    }
    scheduled = false;
  };

  const transaction = <T>(work: (tx: Db) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (scheduled) return;
      scheduled = true;
      // After the current turn of the event loop: what else is asked for in it joins the batch;
      // while more keep coming (others were asked for in that turn), a turn or two more.
      let seen = 1;
      let turns = 0;
      const start = () => {
        if (queue.length > seen && turns < GROUP_COMMIT_TURNS) {
          seen = queue.length;
          turns += 1;
          setImmediate(start);
          return;
        }
        drain().catch((err: unknown) => {
          for (const item of queue.splice(0)) item.reject(err);
          scheduled = false;
        });
      };
      setImmediate(start);
    });

  const reads = statements(h.db, h.sqlite, outside);
  return {
    ...reads,
    // A write on its own is a transaction of one statement: it shares the next commit.
    insert: (name, rows) => transaction((t) => t.insert(name, rows)),
    insertIgnore: (name, row) => transaction((t) => t.insertIgnore(name, row)),
    insertMissing: (name, rows) => transaction((t) => t.insertMissing(name, rows)),
    insertAll: (name, rows) => transaction((t) => t.insertAll(name, rows)),
    insertChain: (steps, then) => transaction((t) => t.insertChain(steps, then)),
    upsert: (name, row, conflict) => transaction((t) => t.upsert(name, row, conflict)),
    update: (name, set, where, q) => transaction((t) => t.update(name, set, where, q)),
    delete: (name, where, q) => transaction((t) => t.delete(name, where, q)),
    transaction,
  };
}

/** True for SQLite's unique (or primary) key violation, also when Drizzle wraps it. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; ) {
    if ('code' in e && /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(String(e.code))) return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}

/** Most one-row inserts kept built (see `insertOne`); the code has a few dozen. */
const PREPARED_INSERTS_MAX = 256;

/** The statements of {@link Db}, each run through `run` (which may first wait for the gate). */
function statements(
  db: BetterSQLite3Database,
  sqlite: BetterSqlite3Database,
  run: <T>(statement: () => T) => Promise<T>,
): Omit<Db, 'transaction'> {
  const selectFrom = (name: TableName, columns: readonly PropertyKey[] | undefined) => {
    const t = table(name);
    if (columns === undefined) return db.select().from(t);
    return db.select(pick(getTableColumns(t), columns)).from(t);
  };
  type Shape = Bounded & { columns?: readonly PropertyKey[]; offset?: number };
  const built = (name: TableName, where: SQL | undefined, q: Shape | undefined) => {
    let query = selectFrom(name, q?.columns).where(where).$dynamic();
    if (q?.orderBy !== undefined) query = query.orderBy(...orderings(q));
    if (q?.limit !== undefined) query = query.limit(q.limit);
    if (q?.offset !== undefined) query = query.offset(q.offset);
    return query;
  };
  /** `where`, and with a limit: only the first `limit` rows' ids (SQLite has no UPDATE … LIMIT). */
  const bounded = (name: TableName, where: SQL | undefined, q: Bounded | undefined) => {
    if (q?.limit === undefined) return where;
    const t = table(name);
    const id = getTableColumns(t).id;
    if (id === undefined) throw new Error(`${name} has no id column`);
    const first = db
      .select({ id })
      .from(t)
      .where(where)
      .orderBy(...orderings(q))
      .limit(q.limit);
    return inArray(id, first);
  };
  // One-row inserts, the statements of every push, built by drizzle once per table and set of
  // columns given (the others take their SQL default, as drizzle renders them) and run on the
  // connection's compiled statement: the values are bound to placeholders, each still through
  // its column's mapping. A row's columns are matched against the shapes built for its table
  // (property names compared by identity), not turned into a key string each time.
  type Built = { columns: string[]; statement: Statement; fill: Filler };
  const inserts = new Map<string, Built[]>();
  let shapesBuilt = 0;
  const insertOne = (name: TableName, row: object, ignore: boolean): RunResult => {
    const values: Record<string, unknown> = {};
    const columns: string[] = [];
    for (const [c, v] of Object.entries(row)) {
      if (v === undefined) continue;
      values[c] = v;
      columns.push(c);
    }
    const kind = ignore ? `${name} ignore` : `${name} insert`;
    let shapes = inserts.get(kind);
    let query = shapes?.find(
      (b) => b.columns.length === columns.length && b.columns.every((c, i) => c === columns[i]),
    );
    if (query === undefined) {
      const bound = Object.fromEntries(columns.map((c) => [c, sql.placeholder(c)]));
      const insert = db.insert(table(name)).values(bound);
      const text = (ignore ? insert.onConflictDoNothing() : insert).toSQL();
      if (shapesBuilt >= PREPARED_INSERTS_MAX) {
        inserts.clear();
        shapesBuilt = 0;
        shapes = undefined;
      }
      query = {
        columns,
        statement: sqlite.prepare(text.sql),
        fill: placeholderFiller(text.params),
      };
      if (shapes === undefined) {
        shapes = [];
        inserts.set(kind, shapes);
      }
      shapes.push(query);
      shapesBuilt += 1;
    }
    return query.statement.run(...query.fill(values));
  };
  const self: Omit<Db, 'transaction'> = {
    t: tables,
    remote: false,
    select(name, where, q) {
      const query = built(name, where, q);
      // The select model of `name`'s table (or those columns of it): see `table`.
      return run(() => query.all() as Row<typeof name>[]);
    },
    first(name, where, q) {
      const query = built(name, where, q);
      return run(() => query.get() as Row<typeof name> | undefined);
    },
    count(name, where) {
      const query = db.select({ n: count() }).from(table(name)).where(where);
      return run(() => query.get()?.n ?? 0);
    },
    async insert(name, rows) {
      const [row] = rows;
      if (rows.length === 1 && row !== undefined) await run(() => insertOne(name, row, false));
      else if (rows.length > 0) await run(() => db.insert(table(name)).values(rows).run());
    },
    async insertIgnore(name, row) {
      const r = await run(() => insertOne(name, row, true));
      return r.changes === 0 ? undefined : Number(r.lastInsertRowid);
    },
    async insertMissing(name, rows) {
      if (rows.length === 0) return 0;
      const query = db.insert(table(name)).values(rows).onConflictDoNothing();
      return (await run(() => query.run())).changes;
    },
    async insertAll(name, rows) {
      try {
        await self.insert(name, rows);
      } catch (err) {
        // SQLite backs out the failed statement only: the transaction goes on.
        if (isUniqueViolation(err)) return 'taken';
        throw err;
      }
      // Not RETURNING, whose order SQLite does not promise: the caller reads the ids.
      return rows.length === 0 ? [] : 'inserted';
    },
    async insertChain(steps, then) {
      // In the process a statement costs no round trip: each in turn, the last step's row by row
      // (each row's id as SQLite tells it).
      let ids: number[] = [];
      for (const [i, step] of steps.entries()) {
        if (i < steps.length - 1) await self.insert<TableName>(step.table, step.rows);
        else {
          ids = await run(() =>
            step.rows.map((row) => Number(insertOne(step.table, row, false).lastInsertRowid)),
          );
        }
      }
      for (const step of then?.(ids) ?? []) await self.insert<TableName>(step.table, step.rows);
      return ids;
    },
    async upsert(name, row, { target, set }) {
      const t = table(name);
      const insert = db.insert(t).values(row);
      const conflict = Object.values(pick(getTableColumns(t), target));
      const query =
        set === undefined
          ? insert.onConflictDoNothing({ target: conflict })
          : insert.onConflictDoUpdate({ target: conflict, set });
      await run(() => query.run());
    },
    async update(name, set, where, q) {
      const query = db
        .update(table(name))
        .set(set)
        .where(bounded(name, where, q));
      return (await run(() => query.run())).changes;
    },
    async delete(name, where, q) {
      const query = db.delete(table(name)).where(bounded(name, where, q));
      return (await run(() => query.run())).changes;
    },
  };
  return self;
}
