import * as tables from '../tables/index';
import { buildSqliteTable as build } from './sqlite-build';

// The SQLite tables, built from the declarations in ../tables (see ../tables/columns.ts for the
// type of each logical kind, ./sqlite-build.ts for how). drizzle-kit reads this file:
// `npm run db:generate`. The SQLite store builds each table on first use from the same builder
// instead of loading this file (a cold start then builds only the tables it touches).

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
