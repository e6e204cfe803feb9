import type BetterSqlite3 from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import type { Pool } from 'mysql2/promise';
import type { DatabaseConfig } from '../config';

// Drivers are loaded when a database of their dialect is opened (`./mysql`, `./sqlite`): a
// function bundle on MySQL never loads the native SQLite module (it is not shipped there), and
// neither pays for the other's load.

export type MysqlHandle = {
  dialect: 'mysql';
  db: MySql2Database;
  pool: Pool;
  /**
   * The read replica (`DATABASE_READ_URL`), when configured: its own pool (nothing connects until
   * the store's reader first reads). Only the store's `reader` queries it.
   */
  replica?: { db: MySql2Database; pool: Pool } | undefined;
  /**
   * A few connections that take several statements in one query (`multipleStatements`), for the
   * store's `insertChain` only (its statements are built by drizzle, every value escaped):
   * nothing connects until it is first used.
   */
  scripts?: Pool | undefined;
  /** Ends the pools. */
  close(): Promise<void>;
};
export type SqliteHandle = {
  dialect: 'sqlite';
  db: BetterSQLite3Database;
  sqlite: BetterSqlite3.Database;
  close(): Promise<void>;
};
/** An open database of either dialect. Only `shared/store` and `shared/db` look inside. */
export type DatabaseHandle = MysqlHandle | SqliteHandle;

export interface OpenOptions {
  /** MySQL pool size (default 10; the replica's pool gets as many). */
  poolSize?: number;
}

/** Describes where a database lives without its password, for logs and error messages. */
export function describeDatabase(cfg: DatabaseConfig): string {
  if (cfg.dialect === 'sqlite') return `SQLite file ${cfg.path}`;
  try {
    const u = new URL(cfg.url);
    return `MySQL ${u.hostname}:${u.port || '3306'}${u.pathname}`;
  } catch {
    return 'MySQL (unparseable URL)';
  }
}

/**
 * Opens the database named by the configuration. MySQL gets a pool (nothing connects until the
 * first query: call {@link pingDatabase} to fail fast); SQLite opens the file in WAL mode with
 * `synchronous=FULL`, so a row acknowledged to WeChat survives a crash.
 */
export async function openDatabase(
  cfg: DatabaseConfig,
  opts: OpenOptions = {},
): Promise<DatabaseHandle> {
  if (cfg.dialect === 'mysql') {
    const { openMysql } = await import('./mysql');
    return openMysql(cfg.url, { ...opts, readUrl: cfg.readUrl });
  }
  return (await import('./sqlite')).openSqlite(cfg.path);
}

/** `SELECT 1` on the database; rejects when it is unreachable. */
export async function pingDatabase(h: DatabaseHandle): Promise<void> {
  if (h.dialect === 'mysql') {
    await h.pool.query('SELECT 1');
    return;
  }
  h.sqlite.prepare('SELECT 1').get();
}

/**
 * Applies the committed migrations for the handle's dialect from `<root>/mysql` or
 * `<root>/sqlite` (drizzle-kit's output). Safe to run from several instances at once on MySQL:
 * a named lock serialises them. A database that is already current costs one query.
 */
export async function migrateDatabase(h: DatabaseHandle, root: string): Promise<void> {
  if (h.dialect === 'sqlite') {
    (await import('./sqlite')).migrateSqlite(h, `${root}/sqlite`);
    return;
  }
  await (await import('./mysql')).migrateMysql(h, `${root}/mysql`);
}
