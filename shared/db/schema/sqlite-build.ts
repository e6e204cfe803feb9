import {
  blob,
  index,
  integer,
  type SQLiteColumn,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import type { Column, TableSpec } from '../tables/columns';
import { buildColumns, indexColumns, type Kinds } from './build';

const number = { mode: 'number' } as const;

/** The Drizzle column each logical kind becomes on SQLite, before its modifiers. */
const kinds = {
  serial: (name: string) => integer(name).primaryKey({ autoIncrement: true }),
  bigserial: (name: string) => integer(name).primaryKey({ autoIncrement: true }),
  varchar: (name: string) => text(name),
  text: (name: string) => text(name),
  mediumtext: (name: string) => text(name),
  bigint: (name: string) => integer(name, number),
  int: (name: string) => integer(name),
  bool: (name: string) => integer(name, { mode: 'boolean' }),
  blob: (name: string) => blob(name, { mode: 'buffer' }),
} satisfies Kinds;

/** The SQLite table of a declaration, typed as if written with sqliteTable directly. */
export function buildSqliteTable<TName extends string, TColumns extends Record<string, Column>>(
  spec: TableSpec<TName, TColumns>,
) {
  return sqliteTable(spec.name, buildColumns(spec.columns, kinds), (self) =>
    spec.indexes.map(({ name, unique, on }) =>
      (unique ? uniqueIndex : index)(name).on(...indexColumns<SQLiteColumn>(self, on)),
    ),
  );
}
