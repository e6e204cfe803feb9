import BetterSqlite3 from 'better-sqlite3';
import { type Column, fillPlaceholders, getTableColumns, is, sql, Table } from 'drizzle-orm';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import { drizzle as mysqlDrizzle } from 'drizzle-orm/mysql2';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as mysqlSchema from '../../db/schema/mysql';
import * as sqliteSchema from '../../db/schema/sqlite';
import { placeholderFiller } from './fill';

/** A value of the kind a column holds (its data type), `n` telling rows apart; some null. */
function sample(column: Column, n: number): unknown {
  if (n % 4 === 3) return null;
  if (column.dataType === 'boolean') return n % 2 === 0;
  if (column.dataType === 'number') return 1_000_000_000_000 + n;
  if (column.dataType === 'buffer' || column.dataType === 'custom') return Buffer.from([n, 1, 2]);
  return `v${n}`;
}

const tablesOf = <T>(schema: object): T[] =>
  Object.values(schema).filter((t): t is T => is(t, Table));

/** The insert of every column as placeholders, and a filling of it (`n` varies the values). */
function checkFills(table: Table, params: unknown[]): void {
  const columns = Object.entries(getTableColumns(table));
  const fill = placeholderFiller(params);
  for (let n = 0; n < 8; n++) {
    const values = Object.fromEntries(columns.map(([k, c], i) => [k, sample(c, n + i)]));
    expect(fill(values)).toEqual(fillPlaceholders(params, values));
  }
  expect(() => fill({})).toThrow(/No value for placeholder ".+" was provided/);
}

const bound = (table: Table) =>
  Object.fromEntries(Object.keys(getTableColumns(table)).map((k) => [k, sql.placeholder(k)]));

describe('placeholderFiller', () => {
  it("fills every table's insert as drizzle's fillPlaceholders does, nulls included", () => {
    const lite = sqliteDrizzle({ client: new BetterSqlite3(':memory:') });
    const sqliteTables = tablesOf<SQLiteTable>(sqliteSchema);
    for (const t of sqliteTables) checkFills(t, lite.insert(t).values(bound(t)).toSQL().params);
    // Never connects: only statements are built.
    const my = mysqlDrizzle.mock();
    const mysqlTables = tablesOf<MySqlTable>(mysqlSchema);
    for (const t of mysqlTables) checkFills(t, my.insert(t).values(bound(t)).toSQL().params);
    expect(sqliteTables.length).toBeGreaterThan(20);
    expect(mysqlTables.length).toBe(sqliteTables.length);
  });
});
