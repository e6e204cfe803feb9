import { count, getTableColumns, inArray, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SecretBox } from '../../crypto/secret-box';
import type { SqliteHandle } from '../../db/client';
import * as schema from '../../db/schema/sqlite';
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
import { repositories } from '../repositories';
import type { Store } from '../types';

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
  return {
    dialect: 'sqlite',
    ...repositories(sqliteDb(h), createCodec(box), (repo) => retryingRepo(repo, budget)),
    async ping() {
      h.sqlite.prepare('SELECT 1').get();
    },
    close: () => h.close(),
  };
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
const sqliteTables: Sqlite = { ...schema };
const tables = sqliteTables as unknown as Tables;

// As in the MySQL adapter: the builders see a plain SQLiteTable, rows are typed by `Row<K>`.
const table = (name: TableName): SQLiteTable => sqliteTables[name];

/**
 * better-sqlite3 runs each statement synchronously, and drizzle's transactions on it are
 * synchronous too (an async callback is refused), so a transaction here is `BEGIN IMMEDIATE` …
 * `COMMIT` on the connection around an async callback. The connection is one per process: while
 * a transaction is open every other statement of this handle waits for it (`gate`), so nothing
 * else joins or sees it.
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
  const tx: Db = { ...statements(h.db, inside), transaction: (work) => work(tx) };
  return {
    ...statements(h.db, outside),
    async transaction(work) {
      while (gate.open !== undefined) await gate.open;
      let release = () => {};
      gate.open = new Promise((resolve) => {
        release = resolve;
      });
      try {
        h.sqlite.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(tx);
          h.sqlite.exec('COMMIT');
          return result;
        } catch (err) {
          if (h.sqlite.inTransaction) h.sqlite.exec('ROLLBACK');
          throw err;
        }
      } finally {
        gate.open = undefined;
        release();
      }
    },
  };
}

/** The statements of {@link Db}, each run through `run` (which may first wait for the gate). */
function statements(
  db: BetterSQLite3Database,
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
  const self: Omit<Db, 'transaction'> = {
    t: tables,
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
      if (rows.length > 0) await run(() => db.insert(table(name)).values(rows).run());
    },
    async insertIgnore(name, row) {
      const r = await run(() => db.insert(table(name)).values(row).onConflictDoNothing().run());
      return r.changes === 0 ? undefined : Number(r.lastInsertRowid);
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
