import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import type { Clock } from '../clock';
import type { DatabaseConfig } from '../config';
import { createSecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import { migrateDatabase, openDatabase } from '../db/client';
import type { Logger } from '../http/log';
import type { Db } from './dialect';
import { createStore } from './index';
import type { NewCallbackMessage, Store } from './types';

/** Test support: the databases the contract suite runs on, and fresh stores over them. */
export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../drizzle');

export interface TestTarget {
  name: 'sqlite' | 'mysql';
  config: DatabaseConfig;
}

/** Prefix of the per-file MySQL databases of one `npm test` run (dropped by its teardown). */
export const TEST_DATABASE_PREFIX = 'wxhub_t_';

let files = 0;

/**
 * SQLite always; MySQL/MariaDB when `TEST_MYSQL_URL` is set. Each call (one per test file) gets
 * a database of its own on that server — created on first open, dropped at the end of the run —
 * so a refresh pass or outbox drain in one file never sees another file's rows, leases or clocks.
 */
export function testTargets(): TestTarget[] {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-test-'));
  const targets: TestTarget[] = [
    { name: 'sqlite', config: { dialect: 'sqlite', path: join(dir, 'wxhub.db') } },
  ];
  const url = process.env.TEST_MYSQL_URL;
  if (url !== undefined && url !== '') {
    files += 1;
    const run = process.env.WXHUB_TEST_RUN ?? 'local';
    const db = `${TEST_DATABASE_PREFIX}${run}_${process.pid}_${files}`.slice(0, 64);
    const own = new URL(url);
    own.pathname = `/${db}`;
    targets.push({ name: 'mysql', config: { dialect: 'mysql', url: own.toString() } });
  }
  return targets;
}

const created = new Map<string, Promise<void>>();

/** Creates the database a MySQL URL names, once per process. */
function ensureDatabase(url: string): Promise<void> {
  let done = created.get(url);
  if (done === undefined) {
    done = (async () => {
      const u = new URL(url);
      const name = decodeURIComponent(u.pathname.slice(1));
      u.pathname = '/';
      const conn = await createConnection(u.toString());
      try {
        await conn.query(
          `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
      } finally {
        await conn.end();
      }
    })();
    created.set(url, done);
  }
  return done;
}

/**
 * One fixed key for every test file and run: the MySQL test database is shared, and a row sealed
 * under another run's key would not open.
 */
export const TEST_SECRET_KEY = Buffer.from('wxhub-test-secret-key-32-bytes!!', 'utf8');

export interface OpenedStore {
  store: Store;
  handle: DatabaseHandle;
}

/** Opens, migrates and wraps a database; close with `store.close()`. */
export async function openTestStore(
  target: TestTarget,
  opts: {
    poolSize?: number;
    secretKeys?: Buffer[];
    busyBudgetMs?: number;
    /** Where the store's reader logs (a read replica failing, then back). */
    log?: Logger;
    clock?: Clock;
    replicaTimeoutMs?: number;
  } = {},
): Promise<OpenedStore> {
  if (target.config.dialect === 'mysql') await ensureDatabase(target.config.url);
  const handle = await openDatabase(target.config, opts);
  await migrateDatabase(handle, MIGRATIONS_DIR);
  const box = createSecretBox(opts.secretKeys ?? [TEST_SECRET_KEY]);
  const storeOpts = {
    ...(opts.busyBudgetMs === undefined ? {} : { busyBudgetMs: opts.busyBudgetMs }),
    log: opts.log,
    clock: opts.clock,
    replicaTimeoutMs: opts.replicaTimeoutMs,
  };
  return { store: await createStore(handle, box, storeOpts), handle };
}

/** The adapter of `target`'s dialect over a fresh, migrated database (as the store builds it). */
export async function openTestDb(target: TestTarget): Promise<{ db: Db; close(): Promise<void> }> {
  const { store, handle } = await openTestStore(target);
  const db =
    handle.dialect === 'mysql'
      ? (await import('./dialects/mysql')).mysqlDb(handle.db, handle.scripts)
      : (await import('./dialects/sqlite')).sqliteDb(handle);
  return { db, close: () => store.close() };
}

/** Getters of a contract suite's store (see {@link useTestStore}). */
export interface TestStore {
  store(): Store;
  opened(): OpenedStore;
}

/**
 * A contract suite's store: opened (and migrated) on `target` before the enclosing `describe`
 * block's tests, closed after them. Call the getters in tests and hooks only.
 */
export function useTestStore(target: TestTarget): TestStore {
  let current: OpenedStore | undefined;
  beforeAll(async () => {
    current = await openTestStore(target);
  });
  afterAll(async () => {
    await current?.store.close();
  });
  const opened = (): OpenedStore => {
    if (current === undefined) throw new Error('the test store opens in beforeAll');
    return current;
  };
  return { store: () => opened().store, opened };
}

/** Every row of `table` as raw text (e.g. to show a secret is not stored in the clear). */
export async function rawTableText(opened: OpenedStore, table: string): Promise<string> {
  const h = opened.handle;
  if (h.dialect === 'mysql') {
    const [rows] = await h.pool.query(`SELECT * FROM \`${table}\``);
    return JSON.stringify(rows);
  }
  return JSON.stringify(h.db.all(sql.raw(`SELECT * FROM "${table}"`)));
}

let counter = 0;
/** A name unique across test files and runs, valid as an app or merchant name. */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** A raw second connection to a SQLite test database (e.g. one that holds its write lock). */
export interface SecondConnection {
  exec(sql: string): void;
  readonly inTransaction: boolean;
  close(): Promise<void>;
}

/** Opens a second connection to `target`'s SQLite file, as another process would. */
export async function openSecondConnection(target: TestTarget): Promise<SecondConnection> {
  const h = await openDatabase(target.config);
  if (h.dialect !== 'sqlite') {
    await h.close();
    throw new Error('a second connection is for SQLite targets');
  }
  return {
    exec: (sql) => {
      h.sqlite.exec(sql);
    },
    get inTransaction() {
      return h.sqlite.inTransaction;
    },
    close: () => h.close(),
  };
}

/**
 * `store` with its credential calls counted by method name (`counts`), for tests that hold a
 * pass to a number of store calls; the store itself is untouched.
 */
export function countedStore(store: Store): { store: Store; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const credentials = new Proxy(store.credentials, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: { ...store, credentials }, counts };
}

/** A stored text push of `app` under `dedupKey`, received at `receivedAt` (store tests). */
export function testMessage(
  app: string,
  dedupKey: string,
  content = 'hello',
  receivedAt = 1_800_000_000_000,
): NewCallbackMessage {
  return {
    app,
    dedupKey,
    receivedAt,
    format: 'xml',
    encrypted: true,
    raw: `<xml><Encrypt>${dedupKey}</Encrypt></xml>`,
    parsed: { MsgType: 'text', Content: content },
    msgType: 'text',
    fromUser: 'openid-1',
    toUser: 'gh_1',
    createTime: 1_800_000_000,
    msgId: dedupKey,
    reply: 'success',
  };
}
