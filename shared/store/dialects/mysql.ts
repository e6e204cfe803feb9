import { count, getTableColumns, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import type { MySql2Database, MySqlRawQueryResult } from 'drizzle-orm/mysql2';
import type { ResultSetHeader } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { SecretBox } from '../../crypto/secret-box';
import type { MysqlHandle } from '../../db/client';
import * as schema from '../../db/schema/mysql';
import { createCodec } from '../codec';
import {
  type Db,
  type InsertStep,
  orderings,
  pick,
  type Row,
  type TableName,
  type Tables,
} from '../dialect';
import { primaryReader, type ReplicaReaderOptions, replicaReader } from '../reader';
import { repositories } from '../repositories';
import type { Store } from '../types';
import { type Filler, placeholderFiller } from './fill';

/** The {@link Store} over MySQL 5.7/8.0 or MariaDB ≥10.6. */
export function createMysqlStore(
  h: MysqlHandle,
  box: SecretBox,
  opts: ReplicaReaderOptions = {},
): Store {
  const codec = createCodec(box);
  const repos = repositories(mysqlDb(h.db, h.scripts), codec);
  // The replica is reached through the reader only: the repositories above are the primary's.
  const reader =
    h.replica === undefined
      ? primaryReader(repos)
      : replicaReader(repos, repositories(mysqlDb(h.replica.db), codec), opts);
  return {
    dialect: 'mysql',
    ...repos,
    reader,
    async ping() {
      await h.pool.query('SELECT 1');
    },
    probeWrite: () => repos.counters.probe(),
    close: () => h.close(),
  };
}

const tables: Tables = { ...schema };

// `tables[name]` is a union of the tables' types, which drizzle's builders cannot infer a row type
// from: the builders below see a plain MySqlTable and the rows are typed by `Row<K>` (the select
// model of the very table `K` names, which is what drizzle returns).
const table = (name: TableName): MySqlTable => tables[name];

/** Rows matched by an UPDATE/DELETE (mysql2 sets CLIENT_FOUND_ROWS, so matched, not changed). */
const affected = (result: MySqlRawQueryResult): number => result[0].affectedRows;

/** True for MySQL's duplicate-key error, also when Drizzle wraps the driver error. */
function isDuplicateKey(err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; ) {
    if ('code' in e && e.code === 'ER_DUP_ENTRY') return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}

/** True for MySQL's syntax error (errno 1064), also when Drizzle wraps the driver error. */
function isParseError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if ('code' in e && e.code === 'ER_PARSE_ERROR') return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}

/** True for InnoDB's deadlock error (errno 1213): its statement's transaction was rolled back. */
function isDeadlockVictim(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if ('code' in e && e.code === 'ER_LOCK_DEADLOCK') return true;
    if ('errno' in e && e.errno === 1213) return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}

/** How many times work picked as a deadlock victim is run in all. */
export const DEADLOCK_ATTEMPTS = 3;

/**
 * Runs `work` (one statement outside a transaction, or one whole transaction) again when InnoDB
 * picked it as a deadlock victim: it was rolled back whole, nothing of it stayed, so running it
 * again is as running it later. Not for a statement inside a transaction (the transaction's
 * earlier statements were rolled back with it); not for a lock wait timeout (1205), which only
 * comes after `innodb_lock_wait_timeout` and would wait as long again.
 */
async function retryDeadlockVictim<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlockVictim(err)) throw err;
    }
  }
}

/** Most transactions one commit covers (see {@link mysqlDb}). */
export const GROUP_COMMIT_MAX = 32;

interface Queued {
  work: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The {@link Db} over a pool.
 *
 * Group commit: transactions asked for in the same turn of the event loop run one after the other
 * in one transaction on one pooled connection (one `BEGIN` … `COMMIT`), so a push costs its own
 * statements and a share of one `BEGIN`, one `COMMIT` and one connection checkout. None is
 * resolved before the `COMMIT` has returned, so each is as durable and as isolated as alone (they
 * run in turn). There is no savepoint per transaction (one more statement each): should one of
 * them throw (a deadlock's victim too), the whole batch is rolled back and each runs again in a
 * transaction of its own, in the order asked, so it commits whole or not at all and settles as it
 * would alone. Should the `COMMIT` fail, every one of them fails. Batches of different turns run
 * side by side on other connections. A transaction alone runs as it always did.
 *
 * Deadlock victims: a statement outside a transaction, or a transaction on its own, that InnoDB
 * rolled back to break a deadlock is run again (up to {@link DEADLOCK_ATTEMPTS} times in all),
 * as a batch is: no caller sees ER_LOCK_DEADLOCK for work that can simply be done again.
 */
export function mysqlDb(db: MySql2Database, scripts?: Pool): Db {
  const autoinc: Autoinc = {};
  const self = autocommitted(statements(db, autoinc));
  const queue: Queued[] = [];
  let scheduled = false;
  const alone = (item: Queued) =>
    retryDeadlockVictim(() => db.transaction((t) => item.work(inTransaction(t, autoinc)))).then(
      item.resolve,
      item.reject,
    );

  const runBatch = async (batch: Queued[]): Promise<void> => {
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) return alone(only);
    const done: { item: Queued; value: unknown }[] = [];
    let threw = false;
    try {
      await db.transaction(async (t) => {
        const tx = inTransaction(t, autoinc);
        for (const item of batch) {
          try {
            done.push({ item, value: await item.work(tx) });
          } catch (err) {
            threw = true;
            throw err;
          }
        }
      });
    } catch (err) {
      if (threw) {
        // Rolled back whole: each runs again in a transaction of its own, in the order asked
        // (the one that threw too: what it saw included the others' writes, not kept).
        for (const item of batch) await alone(item);
        return;
      }
      // The COMMIT (or BEGIN) failed: nothing of the batch is stored.
      for (const item of batch) item.reject(err);
      return;
    }
    for (const { item, value } of done) item.resolve(value);
  };

  const transaction = <T>(work: (tx: Db) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (scheduled) return;
      scheduled = true;
      // After the current turn of the event loop: what else is asked for in it joins the batch.
      setImmediate(() => {
        scheduled = false;
        while (queue.length > 0) {
          const batch = queue.splice(0, GROUP_COMMIT_MAX);
          runBatch(batch).catch((err: unknown) => {
            for (const item of batch) item.reject(err);
          });
        }
      });
    });
  // A server (or a proxy in front of it) that refuses several statements in one query answers
  // with a syntax error, having run none: from then on, statement by statement.
  let scriptsRefused = false;
  const inTurn: Db['insertChain'] = (steps, then) =>
    transaction((tx) => tx.insertChain(steps, then));
  const insertChain: Db['insertChain'] = async (steps, then) => {
    if (scripts === undefined || scriptsRefused) return inTurn(steps, then);
    try {
      return await chainAtOnce(db, scripts, autoinc, steps, then);
    } catch (err) {
      if (!isParseError(err)) throw err;
      scriptsRefused = true;
      return inTurn(steps, then);
    }
  };
  return { ...self, transaction, insertChain };
}

/** Most multi-row INSERT texts kept built (per table, columns given and number of rows). */
const INSERT_TEXTS_MAX = 256;
const insertTexts = new Map<string, { sql: string; fill: Filler }>();

/**
 * The SQL text and values of one step's multi-row INSERT. The text is drizzle's, built once per
 * table, columns given and number of rows with a placeholder for each value (kept, at most
 * {@link INSERT_TEXTS_MAX}); the values fill it each through its column's mapping, as
 * drizzle's prepared statements do (./fill.ts). Building the whole INSERT
 * each time cost more than anything else the hub does for a push (see `npm run bench --
 * callback-push`). Rows that do not all give the same columns are built whole.
 */
function built(db: MySql2Database, step: InsertStep): { sql: string; params: unknown[] } {
  const given = (row: object) =>
    Object.entries(row)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
  const [first] = step.rows;
  const columns = first === undefined ? [] : given(first);
  const shape = columns.join(',');
  if (step.rows.some((row) => given(row).join(',') !== shape)) {
    return db.insert(table(step.table)).values(step.rows).toSQL();
  }
  const key = `${step.table} ${step.rows.length} ${shape}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const rows = step.rows.map((_, i) =>
      Object.fromEntries(columns.map((c) => [c, sql.placeholder(`${i}.${c}`)])),
    );
    const whole = db.insert(table(step.table)).values(rows).toSQL();
    text = { sql: whole.sql, fill: placeholderFiller(whole.params) };
    if (insertTexts.size >= INSERT_TEXTS_MAX) insertTexts.clear();
    insertTexts.set(key, text);
  }
  const values: Record<string, unknown> = {};
  for (const [i, row] of step.rows.entries()) {
    for (const [c, v] of Object.entries(row)) if (v !== undefined) values[`${i}.${c}`] = v;
  }
  return { sql: text.sql, params: text.fill(values) };
}

/**
 * {@link Db.insertChain} on a connection that takes several statements per query: `START
 * TRANSACTION`, the steps' INSERTs and `COMMIT` in one query (with `then`, the COMMIT goes with
 * its INSERTs in a second one). The server runs them in order and stops at the first error,
 * leaving the transaction open: it is rolled back (or, should that fail, the connection is
 * dropped, which rolls it back) before the connection goes back to its pool.
 */
async function chainAtOnce(
  db: MySql2Database,
  scripts: Pool,
  autoinc: Autoinc,
  steps: InsertStep[],
  then: ((ids: number[]) => InsertStep[]) | undefined,
): Promise<number[] | undefined> {
  const last = steps[steps.length - 1];
  if (last === undefined || !(await consecutive(db, autoinc))) return undefined;
  const script = async (list: InsertStep[], begin: boolean, commit: boolean) => {
    const parts = list.filter((s) => s.rows.length > 0).map((s) => built(db, s));
    const text = [
      ...(begin ? ['START TRANSACTION'] : []),
      ...parts.map((p) => p.sql),
      ...(commit ? ['COMMIT'] : []),
    ].join(';\n');
    const [results] = await conn.query<ResultSetHeader[]>(
      text,
      parts.flatMap((p) => p.params),
    );
    return results;
  };
  const conn = await scripts.getConnection();
  let open = false;
  try {
    open = true;
    const results = await script(steps, true, then === undefined);
    // The last step's INSERT: after START TRANSACTION and the steps before it (with rows).
    const told = results[steps.filter((s) => s.rows.length > 0).length];
    if (last.rows.length > 0 && told?.affectedRows !== last.rows.length) {
      throw new Error('a multi-row insert did not insert every row');
    }
    // A multi-row INSERT … VALUES took insertId, insertId + 1, … (see `insertAll`).
    const ids = last.rows.map((_, i) => (told?.insertId ?? 0) + i);
    if (then !== undefined) await script(then(ids), false, true);
    open = false;
    return ids;
  } catch (err) {
    if (open) {
      await conn.query('ROLLBACK').catch(() => {
        conn.destroy();
      });
    }
    throw err;
  } finally {
    conn.release();
  }
}

/** The statements of a pool (each its own transaction): a deadlock victim is run again. */
function autocommitted(s: Omit<Db, 'transaction'>): Omit<Db, 'transaction' | 'insertChain'> {
  return {
    t: s.t,
    remote: s.remote,
    select: (name, where, q) => retryDeadlockVictim(() => s.select(name, where, q)),
    first: (name, where, q) => retryDeadlockVictim(() => s.first(name, where, q)),
    count: (name, where) => retryDeadlockVictim(() => s.count(name, where)),
    insert: (name, rows) => retryDeadlockVictim(() => s.insert(name, rows)),
    insertIgnore: (name, row) => retryDeadlockVictim(() => s.insertIgnore(name, row)),
    insertMissing: (name, rows) => retryDeadlockVictim(() => s.insertMissing(name, rows)),
    insertAll: (name, rows) => retryDeadlockVictim(() => s.insertAll(name, rows)),
    upsert: (name, row, conflict) => retryDeadlockVictim(() => s.upsert(name, row, conflict)),
    update: (name, set, where, q) => retryDeadlockVictim(() => s.update(name, set, where, q)),
    delete: (name, where, q) => retryDeadlockVictim(() => s.delete(name, where, q)),
  };
}

/** The {@link Db} inside a transaction: a nested transaction is part of it. */
function inTransaction(t: MySql2Database, autoinc: Autoinc): Db {
  const tx: Db = { ...statements(t, autoinc), transaction: (work) => work(tx) };
  return tx;
}

/** Whether one statement's auto-increment values are consecutive: asked once, when first needed. */
interface Autoinc {
  consecutive?: Promise<boolean>;
}

/**
 * Asks the server (on the connection at hand: inside a transaction, its own, so no second
 * connection is needed while the pool may be all in transactions) whether the rows of one
 * multi-row insert take consecutive auto-increment values; an error is asked again next time.
 */
function consecutive(db: MySql2Database, autoinc: Autoinc): Promise<boolean> {
  autoinc.consecutive ??= db
    .execute(sql`SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS step`)
    .then(([rows]) => {
      const [row] = rows as unknown as { mode: unknown; step: unknown }[];
      return Number(row?.mode) <= 1 && Number(row?.step) === 1;
    })
    .catch(() => {
      autoinc.consecutive = undefined;
      return false;
    });
  return autoinc.consecutive;
}

/** The statements of {@link Db} over a pool or a transaction's connection. */
function statements(db: MySql2Database, autoinc: Autoinc): Omit<Db, 'transaction'> {
  const selectFrom = (name: TableName, columns: readonly PropertyKey[] | undefined) => {
    const t = table(name);
    if (columns === undefined) return db.select().from(t);
    return db.select(pick(getTableColumns(t), columns)).from(t);
  };
  const self: Omit<Db, 'transaction'> = {
    t: tables,
    remote: true,
    async select(name, where, q) {
      let query = selectFrom(name, q?.columns).where(where).$dynamic();
      if (q?.orderBy !== undefined) query = query.orderBy(...orderings(q));
      if (q?.limit !== undefined) query = query.limit(q.limit);
      if (q?.offset !== undefined) query = query.offset(q.offset);
      if (q?.forUpdate === true) query = query.for('update');
      // The select model of `name`'s table (or those columns of it): see `table`.
      return (await query) as Row<typeof name>[];
    },
    async first(name, where, q) {
      const [row] = await self.select(name, where, { ...q, limit: 1 });
      return row;
    },
    async count(name, where) {
      const [row] = await db.select({ n: count() }).from(table(name)).where(where);
      return row?.n ?? 0;
    },
    async insert(name, rows) {
      if (rows.length > 0) await db.insert(table(name)).values(rows);
    },
    async insertIgnore(name, row) {
      // Not INSERT IGNORE, which would also turn a too-long value into a silent truncation. A
      // duplicate inside a transaction undoes that statement only (InnoDB), so it goes on.
      try {
        const [r] = await db.insert(table(name)).values(row).$returningId();
        const id: unknown = r === undefined ? undefined : Object.values(r)[0];
        if (typeof id !== 'number') throw new Error('insert returned no id');
        return id;
      } catch (err) {
        if (isDuplicateKey(err)) return undefined;
        throw err;
      }
    },
    async insertMissing(name, rows) {
      // A no-op update, not INSERT IGNORE (which would also truncate a too-long value silently).
      if (rows.length === 0) return 0;
      const [result] = await db
        .insert(table(name))
        .values(rows)
        .onDuplicateKeyUpdate({ set: { id: sql`id` } });
      // With CLIENT_FOUND_ROWS a kept row counts as affected too; the info line of a multi-row
      // insert (`Records: 3  Duplicates: 1  Warnings: 0`) tells them apart.
      const told = /Records: (\d+)\s+Duplicates: (\d+)/.exec(result.info);
      return told === null ? undefined : Number(told[1]) - Number(told[2]);
    },
    async insertAll(name, rows) {
      if (rows.length === 0) return [];
      const ordered = await consecutive(db, autoinc);
      let result: ResultSetHeader;
      try {
        [result] = await db.insert(table(name)).values(rows);
      } catch (err) {
        // InnoDB undoes the failed statement only: the transaction goes on.
        if (isDuplicateKey(err)) return 'taken';
        throw err;
      }
      // A multi-row INSERT … VALUES is a "simple insert": with consecutive values its rows took
      // insertId, insertId + 1, … in order (MySQL and MariaDB document it).
      if (!ordered || result.affectedRows !== rows.length) return 'inserted';
      return rows.map((_, i) => result.insertId + i);
    },
    async insertChain(steps, then) {
      // On the connection at hand (a transaction's), statement by statement.
      if (!(await consecutive(db, autoinc))) return undefined;
      let ids: number[] = [];
      for (const [i, step] of steps.entries()) {
        if (step.rows.length === 0) continue;
        const [result] = await db.insert(table(step.table)).values(step.rows);
        if (i === steps.length - 1) ids = step.rows.map((_, n) => result.insertId + n);
      }
      for (const step of then?.(ids) ?? []) await self.insert<TableName>(step.table, step.rows);
      return ids;
    },
    async upsert(name, row, { set }) {
      // ON DUPLICATE KEY UPDATE applies to any unique key: the target is SQLite's concern.
      const t = table(name);
      await db
        .insert(t)
        .values(row)
        .onDuplicateKeyUpdate({ set: set ?? { id: sql`id` } });
    },
    async update(name, set, where, q) {
      let query = db
        .update(table(name))
        .set(set)
        .where(where)
        .orderBy(...orderings(q))
        .$dynamic();
      if (q?.limit !== undefined) query = query.limit(q.limit);
      return affected(await query);
    },
    async delete(name, where, q) {
      let query = db
        .delete(table(name))
        .where(where)
        .orderBy(...orderings(q))
        .$dynamic();
      if (q?.limit !== undefined) query = query.limit(q.limit);
      return affected(await query);
    },
  };
  return self;
}
