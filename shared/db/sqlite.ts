import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { SqliteHandle } from './client';

// Everything that needs the SQLite driver: loaded only when a SQLite database is opened (an SCF
// bundle ships it as a file of its own and never loads the native module on MySQL).

/** Opens the file in WAL mode with `synchronous=FULL`, so an acknowledged row survives a crash. */
export function openSqlite(path: string): SqliteHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = FULL');
  return {
    dialect: 'sqlite',
    db: drizzle({ client: sqlite }),
    sqlite,
    close: async () => {
      sqlite.close();
    },
  };
}

/** Applies the SQLite migrations in `folder`. */
export function migrateSqlite(h: SqliteHandle, folder: string): void {
  migrate(h.db, { migrationsFolder: folder });
}
