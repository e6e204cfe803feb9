import { count, getTableColumns, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import type { MySql2Database, MySqlRawQueryResult } from 'drizzle-orm/mysql2';
import type { SecretBox } from '../../crypto/secret-box';
import type { MysqlHandle } from '../../db/client';
import * as schema from '../../db/schema/mysql';
import { createCodec } from '../codec';
import { type Db, orderings, pick, type Row, type TableName, type Tables } from '../dialect';
import { repositories } from '../repositories';
import type { Store } from '../types';

/** The {@link Store} over MySQL 5.7/8.0 or MariaDB ≥10.6. */
export function createMysqlStore(h: MysqlHandle, box: SecretBox): Store {
  return {
    dialect: 'mysql',
    ...repositories(mysqlDb(h.db), createCodec(box)),
    async ping() {
      await h.pool.query('SELECT 1');
    },
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

/** The {@link Db} over a pool (in a transaction: over the transaction's connection). */
export function mysqlDb(db: MySql2Database): Db {
  const selectFrom = (name: TableName, columns: readonly PropertyKey[] | undefined) => {
    const t = table(name);
    if (columns === undefined) return db.select().from(t);
    return db.select(pick(getTableColumns(t), columns)).from(t);
  };
  const self: Db = {
    t: tables,
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
    transaction(work) {
      return db.transaction((tx) => work(mysqlDb(tx)));
    },
  };
  return self;
}
