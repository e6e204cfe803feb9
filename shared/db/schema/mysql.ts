import {
  bigint,
  boolean,
  customType,
  index,
  int,
  type MySqlColumn,
  mediumtext,
  mysqlTable,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import type { Column, TableSpec } from '../tables/columns';
import * as tables from '../tables/index';
import { buildColumns, indexColumns, type Kinds } from './build';

// The MySQL / MariaDB tables, built from the declarations in ../tables (see ../tables/columns.ts
// for the type of each logical kind). drizzle-kit reads this file: `npm run db:generate`.

const number = { mode: 'number' } as const;

/** `mediumblob` (16 MiB): drizzle's MySQL core has no blob column; mysql2 reads it as a Buffer. */
const mediumblob = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'mediumblob',
});

/** The Drizzle column each logical kind becomes on MySQL, before its modifiers. */
const kinds = {
  serial: (name: string) => int(name).autoincrement().primaryKey(),
  bigserial: (name: string) => bigint(name, number).autoincrement().primaryKey(),
  varchar: (name: string, length?: number) => varchar(name, { length: lengthOf(name, length) }),
  text: (name: string) => text(name),
  mediumtext: (name: string) => mediumtext(name),
  bigint: (name: string) => bigint(name, number),
  int: (name: string) => int(name),
  bool: (name: string) => boolean(name),
  blob: (name: string) => mediumblob(name),
} satisfies Kinds;

function lengthOf(name: string, length: number | undefined): number {
  if (length === undefined) throw new Error(`varchar column ${name} needs a length`);
  return length;
}

/** The MySQL table of a declaration, typed as if written with mysqlTable directly. */
function build<TName extends string, TColumns extends Record<string, Column>>(
  spec: TableSpec<TName, TColumns>,
) {
  return mysqlTable(spec.name, buildColumns(spec.columns, kinds), (self) =>
    spec.indexes.map(({ name, unique, on }) =>
      (unique ? uniqueIndex : index)(name).on(...indexColumns<MySqlColumn>(self, on)),
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
export const callbackSignatureLog = build(tables.callbackSignatureLog);
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
export const platformMerchants = build(tables.platformMerchants);
export const smsCodes = build(tables.smsCodes);
export const smsLocks = build(tables.smsLocks);
export const alerts = build(tables.alerts);
