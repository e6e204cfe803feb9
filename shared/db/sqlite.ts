import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { SqliteHandle } from './client';
import { isCurrent } from './migrations';

// Everything that needs the SQLite driver: loaded only when a SQLite database is opened (an SCF
// bundle ships it as a file of its own and never loads the native module on MySQL).

/** Opens the file in WAL mode with `synchronous=FULL`, so an acknowledged row survives a crash. */
export function openSqlite(path: string): SqliteHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  // One exec for the three (journal_mode answers a row, which exec leaves unread).
  sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL');
  cacheStatements(sqlite);
  return {
    dialect: 'sqlite',
    db: drizzle({ client: sqlite }),
    sqlite,
    close: async () => {
      sqlite.close();
    },
  };
}

/** How many compiled statements a connection keeps (least recently used dropped first). */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * Keeps the connection's compiled statements by SQL text: drizzle asks better-sqlite3 to compile
 * every statement it runs, though a repository runs the same few texts over and over (values are
 * bound, never part of the text). A statement taken from the cache is back in its default
 * (object rows) mode, as a fresh one would be.
 */
function cacheStatements(sqlite: BetterSqlite3.Database): void {
  const compile = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (source: string) => {
    let stmt = cache.get(source);
    if (stmt === undefined) {
      stmt = compile(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
    } else {
      cache.delete(source);
      if (stmt.reader) stmt.raw(false);
    }
    cache.set(source, stmt);
    return stmt;
  };
  sqlite.prepare = prepare as typeof sqlite.prepare;
}

/** Applies the SQLite migrations in `folder` (one read when the file is already current). */
export function migrateSqlite(h: SqliteHandle, folder: string): void {
  if (isCurrentSqlite(h, folder)) return;
  migrate(h.db, { migrationsFolder: folder });
}

function isCurrentSqlite(h: SqliteHandle, folder: string): boolean {
  const hasTable = h.sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (hasTable === undefined) return false;
  const last = h.sqlite
    .prepare('SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1')
    .get() as { created_at?: unknown } | undefined;
  return isCurrent(last?.created_at, folder);
}
