import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import { createPool } from 'mysql2/promise';
import type { MysqlHandle, OpenOptions } from './client';

// Everything that needs the MySQL driver: loaded only when a MySQL database is opened (an SCF
// bundle ships it as a file of its own, required on first use).

/** Opens a MySQL pool (nothing connects until the first query). */
export function openMysql(url: string, opts: OpenOptions = {}): MysqlHandle {
  const pool = createPool({
    uri: url,
    connectionLimit: opts.poolSize ?? 10,
    waitForConnections: true,
    connectTimeout: 5_000,
    enableKeepAlive: true,
    charset: 'utf8mb4',
  });
  return { dialect: 'mysql', db: drizzle({ client: pool }), pool, close: () => pool.end() };
}

/**
 * Applies the MySQL migrations in `folder`. Safe to run from several instances at once: a named
 * lock serialises them.
 */
export async function migrateMysql(h: MysqlHandle, folder: string): Promise<void> {
  const conn = await h.pool.getConnection();
  try {
    // Two cold instances starting together must not both create the tables.
    await conn.query("SELECT GET_LOCK('wxhub_migrate', 60)");
    await migrate(drizzle({ client: conn }), { migrationsFolder: folder });
  } finally {
    await conn.query("SELECT RELEASE_LOCK('wxhub_migrate')").catch(() => undefined);
    conn.release();
  }
}
