import type { SQL } from 'drizzle-orm';
// Types only (erased at build): the tables' logical shape. Both dialects declare the same tables,
// columns and value types; each adapter checks at compile time that its own tables match.
import type * as schema from '../db/schema/mysql';

/**
 * What the repositories (`shared/store/<concern>.ts`) run their queries through: the handful of
 * operations on which MySQL/MariaDB and SQLite differ, each implemented once per dialect in
 * `shared/store/dialects/<dialect>.ts` (the only files that name a dialect). A repository builds
 * its conditions from {@link Db.t}'s columns with drizzle's operators (`eq`, `and`, `sql`…) and
 * names the table it works on; rows come back typed as the table's select model.
 */
export interface Db {
  /** The tables, for building conditions and orderings from their columns. */
  readonly t: Tables;
  /**
   * Each statement is a round trip to a database server (MySQL), not a call into this process
   * (SQLite): worth sending fewer, bigger statements for.
   */
  readonly remote: boolean;
  /** Rows of `table` matching `where` (all columns, or `q.columns`), ordered, at most `q.limit`. */
  select<K extends TableName, C extends keyof Row<K> = keyof Row<K>>(
    table: K,
    where: SQL | undefined,
    q?: Query<K, C>,
  ): Promise<Pick<Row<K>, C>[]>;
  /** The first row {@link select} would return, or undefined. */
  first<K extends TableName, C extends keyof Row<K> = keyof Row<K>>(
    table: K,
    where: SQL | undefined,
    q?: Query<K, C>,
  ): Promise<Pick<Row<K>, C> | undefined>;
  /** How many rows of `table` match `where`. */
  count(table: TableName, where: SQL | undefined): Promise<number>;
  /** Inserts `rows` (none: no statement). A duplicate key is an error. */
  insert<K extends TableName>(table: K, rows: Insert<K>[]): Promise<void>;
  /**
   * Inserts `row` unless a row with the same unique key exists: the new row's id, or undefined
   * when it was a duplicate (nothing changed). Inside a transaction the transaction goes on.
   */
  insertIgnore<K extends TableName>(table: K, row: Insert<K>): Promise<number | undefined>;
  /**
   * Inserts `rows` in one statement (none: no statement); a row whose unique key is taken, by an
   * earlier row or one of `rows` before it, is left out and the row there stays as it is. No
   * error on a duplicate; any other error fails the whole statement. Returns how many rows were
   * inserted when the database tells (MySQL does for two rows or more), else undefined.
   */
  insertMissing<K extends TableName>(table: K, rows: Insert<K>[]): Promise<number | undefined>;
  /**
   * Inserts `rows` in one statement, unless a unique key of one of them is taken (by a row there
   * or one of `rows` before it): then none is inserted, it says `'taken'` and a transaction goes
   * on. Else it returns their new ids in order when the database tells them without a read, or
   * `'inserted'` (then read them). MySQL tells them when one statement's auto-increment values are
   * consecutive (`innodb_autoinc_lock_mode` 0 or 1, `auto_increment_increment` 1: MariaDB's
   * defaults).
   */
  insertAll<K extends TableName>(
    table: K,
    rows: Insert<K>[],
  ): Promise<number[] | 'inserted' | 'taken'>;
  /**
   * Inserts each of `steps`' rows (plain inserts: a duplicate key is an error, as in
   * {@link insert}), then those of `then(ids)`, `ids` being the new ids of the last step's rows
   * in order, all as one transaction sent whole: to a database server one round trip (two with
   * `then`), where {@link insert} and its kin cost one each, and one more for `BEGIN` and for
   * `COMMIT`. Any error rolls all of it back and rejects. Resolves those ids; `undefined` when the
   * database cannot tell them without a read (MySQL whose auto-increment values are not
   * consecutive, see {@link insertAll}): then nothing was done. Inside a transaction it is part of
   * that transaction, statement by statement, and an error leaves the undoing to it.
   */
  insertChain(
    steps: InsertStep[],
    then?: (ids: number[]) => InsertStep[],
  ): Promise<number[] | undefined>;
  /**
   * Inserts `row`, or when its unique key `target` exists, updates that row with `set` (no
   * `set`: leaves it as it is). One statement, no error on a duplicate.
   */
  upsert<K extends TableName>(
    table: K,
    row: Insert<K>,
    conflict: { target: readonly (keyof Row<K>)[]; set?: UpdateSet<K> },
  ): Promise<void>;
  /**
   * One UPDATE of the rows matching `where` (with `q.limit`: the first `limit` of them in
   * `q.orderBy` order); how many rows it matched (also when a value was already the same).
   */
  update<K extends TableName>(
    table: K,
    set: UpdateSet<K>,
    where: SQL | undefined,
    q?: Bounded,
  ): Promise<number>;
  /** One DELETE of the rows matching `where` (with `q.limit`: the first `limit`); how many. */
  delete(table: TableName, where: SQL | undefined, q?: Bounded): Promise<number>;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Use
   * only `tx` inside: on SQLite (one connection) every other statement waits for the transaction
   * to end, so one issued through the outer `Db` from inside it would wait forever.
   */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

type Schema = typeof schema;
/** The tables' names, as exported by the schema modules. */
export type TableName = {
  [K in keyof Schema]: Schema[K] extends { $inferSelect: object } ? K : never;
}[keyof Schema];
export type Tables = { readonly [K in TableName]: Schema[K] };
/** A table's row as read (drizzle's select model). */
export type Row<K extends TableName> = Schema[K]['$inferSelect'];
/** A new row (drizzle's insert model: defaulted and nullable columns optional). */
export type Insert<K extends TableName> = Schema[K]['$inferInsert'];
/** One table's new rows, for {@link Db.insertChain}. */
export type InsertStep = { [K in TableName]: { table: K; rows: Insert<K>[] } }[TableName];

/** New values for some columns: a value or an SQL expression (`sql\`${col} + 1\``). */
export type UpdateSet<K extends TableName> = { [C in keyof Insert<K>]?: Insert<K>[C] | SQL };

/** Ordering and a row limit. */
export interface Bounded {
  /** `asc(column)`, `desc(column)` or several. */
  orderBy?: SQL | SQL[];
  limit?: number;
}

export interface Query<K extends TableName, C extends keyof Row<K>> extends Bounded {
  /** Only these columns. */
  columns?: readonly C[];
  /** Skip this many rows first (with `limit`). */
  offset?: number;
  /** MySQL `FOR UPDATE` inside a transaction (SQLite's write transaction already excludes). */
  forUpdate?: boolean;
}

// For the adapters.

/** `q.orderBy` as a list. */
export const orderings = (q: Bounded | undefined): SQL[] =>
  q?.orderBy === undefined ? [] : Array.isArray(q.orderBy) ? q.orderBy : [q.orderBy];

/** Those of `all` (a table's columns) named in `names`: a select list or a conflict target. */
export function pick<C>(all: Record<string, C>, names: readonly PropertyKey[]): Record<string, C> {
  const picked: Record<string, C> = {};
  for (const name of names) {
    const column = all[String(name)];
    if (column !== undefined) picked[String(name)] = column;
  }
  return picked;
}
