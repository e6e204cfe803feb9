import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import { createPool, type Pool } from 'mysql2/promise';
import type { MysqlHandle, OpenOptions } from './client';
import { isCurrent } from './migrations';

// Everything that needs the MySQL driver: loaded only when a MySQL database is opened (an SCF
// bundle ships it as a file of its own, required on first use).

/** How long the replica's pool waits for a connection: a replica that is down costs little. */
export const REPLICA_CONNECT_TIMEOUT_MS = 2_000;

/** Most connections of the pool that takes several statements per query (`scripts`). */
export const SCRIPT_CONNECTIONS = 4;

/**
 * Opens a MySQL pool (nothing connects until the first query), a small one of connections that
 * take several statements per query (`scripts`, for the store's `insertChain`), and one to the
 * read replica when `opts.readUrl` names one.
 */
export function openMysql(
  url: string,
  opts: OpenOptions & { readUrl?: string | undefined } = {},
): MysqlHandle {
  const size = opts.poolSize ?? 10;
  const pool = openPool(url, size, 5_000);
  const scripts = openPool(url, Math.min(size, SCRIPT_CONNECTIONS), 5_000, true);
  const replica =
    opts.readUrl === undefined
      ? undefined
      : openPool(opts.readUrl, size, REPLICA_CONNECT_TIMEOUT_MS);
  return {
    dialect: 'mysql',
    db: drizzle({ client: pool }),
    pool,
    scripts,
    replica:
      replica === undefined ? undefined : { db: drizzle({ client: replica }), pool: replica },
    close: async () => {
      // A replica that is down or went silent must not fail (or hold up) a shutdown.
      await Promise.all([pool.end(), scripts.end(), replica?.end().catch(() => undefined)]);
    },
  };
}

function openPool(
  uri: string,
  connectionLimit: number,
  connectTimeout: number,
  multipleStatements = false,
): Pool {
  return createPool({
    uri,
    connectionLimit,
    waitForConnections: true,
    connectTimeout,
    enableKeepAlive: true,
    charset: 'utf8mb4',
    multipleStatements,
  });
}

/**
 * Applies the MySQL migrations in `folder`. Safe to run from several instances at once: a named
 * lock serialises them. When the database is already current (the usual cold start) nothing
 * else happens and no lock is taken.
 */
export async function migrateMysql(h: MysqlHandle, folder: string): Promise<void> {
  if (await isCurrentMysql(h, folder)) return;
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

/** One read: is every migration in `folder` applied? (No table yet: no.) */
async function isCurrentMysql(h: MysqlHandle, folder: string): Promise<boolean> {
  try {
    const [rows] = await h.pool.query(
      'SELECT created_at FROM `__drizzle_migrations` ORDER BY created_at DESC LIMIT 1',
    );
    const last = Array.isArray(rows)
      ? (rows[0] as { created_at?: unknown } | undefined)
      : undefined;
    return isCurrent(last?.created_at, folder);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return false;
    throw err;
  }
}
