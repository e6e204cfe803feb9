import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DrizzleMySQLSnapshotJSON,
  type DrizzleSQLiteSnapshotJSON,
  generateMySQLDrizzleJson,
  generateMySQLMigration,
  generateSQLiteDrizzleJson,
  generateSQLiteMigration,
} from 'drizzle-kit/api';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../store/testing';
import type * as tables from '../tables/index';
import * as mysql from './mysql';
import * as sqlite from './sqlite';

/** The snapshot drizzle-kit wrote with the newest committed migration of `dialect`. */
function newestSnapshot<T>(dialect: 'mysql' | 'sqlite'): T {
  const meta = join(MIGRATIONS_DIR, dialect, 'meta');
  const journal = JSON.parse(readFileSync(join(meta, '_journal.json'), 'utf8')) as {
    entries: { idx: number }[];
  };
  const last = journal.entries[journal.entries.length - 1];
  if (last === undefined) throw new Error(`no ${dialect} migration`);
  const file = `${String(last.idx).padStart(4, '0')}_snapshot.json`;
  return JSON.parse(readFileSync(join(meta, file), 'utf8')) as T;
}

// `npm run db:generate` would write a migration exactly when these differ.
describe('schema against the committed migrations', () => {
  it('MySQL: the tables need no new migration', async () => {
    const committed = newestSnapshot<DrizzleMySQLSnapshotJSON>('mysql');
    const current = await generateMySQLDrizzleJson(mysql, committed.id);
    expect(await generateMySQLMigration(committed, current)).toEqual([]);
  });

  it('SQLite: the tables need no new migration', async () => {
    const committed = newestSnapshot<DrizzleSQLiteSnapshotJSON>('sqlite');
    const current = await generateSQLiteDrizzleJson(sqlite, committed.id);
    expect(await generateSQLiteMigration(committed, current)).toEqual([]);
  });
});

type Rows<S, M extends '$inferSelect' | '$inferInsert'> = {
  [K in keyof S]: S[K] extends Record<M, unknown> ? S[K][M] : never;
};

/** A row type whose `O` keys are optional on insert, as Drizzle writes it. */
type Insert<R, O extends PropertyKey> = Omit<R, O> & Partial<Pick<R, Extract<O, keyof R>>>;
type Flat<T> = { [K in keyof T]: T[K] };

/** The rows of the tables that predate the declarations, as Drizzle typed them then. */
interface Expected {
  apps: {
    id: number;
    name: string;
    kind: string;
    appId: string;
    appSecret: string | null;
    callbackToken: string | null;
    encodingAesKey: string | null;
    tokenMode: string;
    messageMode: string | null;
    forward: string;
    authRedirectUrl: string | null;
    oauthRedirects: string | null;
    oauthComponent: string | null;
    devId: string | null;
    providerCorpId: string | null;
    source: string;
    enabled: boolean;
    createdAt: number;
    updatedAt: number;
  };
  merchants: {
    id: number;
    name: string;
    mchId: string;
    appId: string | null;
    apiV3Key: string;
    serialNo: string;
    privateKey: string;
    publicKeyId: string | null;
    publicKey: string | null;
    platformCertificates: string;
    forward: string;
    source: string;
    enabled: boolean;
    createdAt: number;
    updatedAt: number;
  };
  credentials: {
    id: number;
    owner: string;
    kind: string;
    value: string | null;
    expiresAt: number | null;
    version: number;
    leaseOwner: string | null;
    leaseUntil: number | null;
    lastError: string | null;
    lastErrorAt: number | null;
    failures: number;
    nextAttemptAt: number | null;
    refreshedAt: number | null;
    createdAt: number;
    updatedAt: number;
  };
  callbackMessages: {
    id: number;
    app: string;
    dedupKey: string;
    receivedAt: number;
    format: string;
    encrypted: boolean;
    raw: string;
    parsed: string;
    msgType: string | null;
    event: string | null;
    fromUser: string | null;
    toUser: string | null;
    createTime: number | null;
    msgId: string | null;
    reply: string | null;
    authorizerAppid: string | null;
  };
  outbox: {
    id: number;
    source: string;
    sourceId: number;
    owner: string;
    targetUrl: string;
    idempotencyKey: string;
    payload: string;
    status: string;
    attempts: number;
    maxAttempts: number;
    nextAttemptAt: number;
    lockedBy: string | null;
    lockedUntil: number | null;
    lastError: string | null;
    deliveredAt: number | null;
    createdAt: number;
    updatedAt: number;
  };
  payNotifications: {
    id: number;
    merchant: string;
    notificationId: string;
    eventType: string;
    resourceType: string;
    summary: string | null;
    createTime: string | null;
    raw: string;
    resource: string;
    receivedAt: number;
  };
  callbackSignatures: {
    id: number;
    app: string;
    signature: string;
    bodyHash: string;
    expiresAt: number;
  };
  authorizers: {
    id: number;
    app: string;
    authorizerAppId: string;
    status: string;
    nickName: string | null;
    userName: string | null;
    funcInfo: string;
    authorizedAt: number;
    updatedAt: number;
    revokedAt: number | null;
  };
}

/** On insert: the id, the defaults and every nullable column may be left out. */
type Optional<R> = { [K in keyof R]: null extends R[K] ? K : never }[keyof R];
type ExpectedInsert = {
  [T in keyof Expected]: Flat<
    Insert<
      Expected[T],
      | 'id'
      | Optional<Expected[T]>
      | (T extends 'credentials' ? 'version' | 'failures' : T extends 'outbox' ? 'attempts' : never)
    >
  >;
};
type FlatRows<S, M extends '$inferSelect' | '$inferInsert'> = {
  -readonly [K in keyof Rows<S, M>]: Flat<Rows<S, M>[K]>;
};

type Pinned<S, M extends '$inferSelect' | '$inferInsert'> = Pick<
  FlatRows<S, M>,
  Extract<keyof Expected, keyof S>
>;

// Checked by `npm run check` (tsc): the tables built from the one declaration per table keep
// Drizzle's row types exactly, the same on both dialects, and both export every declared table.
describe('row types', () => {
  it('are the same on both dialects', () => {
    expectTypeOf<FlatRows<typeof mysql, '$inferSelect'>>().toEqualTypeOf<
      FlatRows<typeof sqlite, '$inferSelect'>
    >();
    expectTypeOf<FlatRows<typeof mysql, '$inferInsert'>>().toEqualTypeOf<
      FlatRows<typeof sqlite, '$inferInsert'>
    >();
    expectTypeOf<keyof typeof mysql>().toEqualTypeOf<keyof typeof tables>();
    expectTypeOf<keyof typeof sqlite>().toEqualTypeOf<keyof typeof tables>();
  });

  it('are, for the first tables, what the repositories have always read and written', () => {
    expectTypeOf<Pinned<typeof mysql, '$inferSelect'>>().toEqualTypeOf<Expected>();
    expectTypeOf<Pinned<typeof sqlite, '$inferSelect'>>().toEqualTypeOf<Expected>();
    expectTypeOf<Pinned<typeof mysql, '$inferInsert'>>().toEqualTypeOf<ExpectedInsert>();
    expectTypeOf<Pinned<typeof sqlite, '$inferInsert'>>().toEqualTypeOf<ExpectedInsert>();
  });
});
