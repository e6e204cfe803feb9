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
import * as tables from '../tables/index';
import { buildColumns, indexColumns, type Kinds } from './build';

// The SQLite tables, built from the declarations in ../tables (see ../tables/columns.ts for the
// type of each logical kind). drizzle-kit reads this file: `npm run db:generate`.

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
function build<TName extends string, TColumns extends Record<string, Column>>(
  spec: TableSpec<TName, TColumns>,
) {
  return sqliteTable(spec.name, buildColumns(spec.columns, kinds), (self) =>
    spec.indexes.map(({ name, unique, on }) =>
      (unique ? uniqueIndex : index)(name).on(...indexColumns<SQLiteColumn>(self, on)),
    ),
  );
}

export const apps = build(tables.apps);
export const merchants = build(tables.merchants);
export const credentials = build(tables.credentials);
export const callbackMessages = build(tables.callbackMessages);
export const outbox = build(tables.outbox);
export const payNotifications = build(tables.payNotifications);
export const callbackSignatures = build(tables.callbackSignatures);
export const authorizers = build(tables.authorizers);
export const adminUsers = build(tables.adminUsers);
export const adminSessions = build(tables.adminSessions);
export const adminLoginFailures = build(tables.adminLoginFailures);
export const adminAudit = build(tables.adminAudit);
export const apiKeys = build(tables.apiKeys);
export const counters = build(tables.counters);
export const oauthStates = build(tables.oauthStates);
export const oauthTickets = build(tables.oauthTickets);
export const wxacodes = build(tables.wxacodes);
export const loginSessions = build(tables.loginSessions);
export const signingKeys = build(tables.signingKeys);
