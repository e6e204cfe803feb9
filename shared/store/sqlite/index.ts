import type { SecretBox } from '../../crypto/secret-box';
import type { SqliteHandle } from '../../db/client';
import { createCodec } from '../codec';
import type { Store } from '../types';
import { sqliteApps, sqliteMerchants } from './accounts';
import { DEFAULT_BUSY_BUDGET_MS, retryingRepo } from './busy';
import { sqliteCredentials } from './credentials';
import { sqliteMessages, sqliteOutbox, sqlitePayNotifications } from './events';

export interface SqliteStoreOptions {
  /** Longest total wait for another connection's write lock before a 503 (default 5 s). */
  busyBudgetMs?: number;
}

/**
 * The {@link Store} over an embedded SQLite database. better-sqlite3 is synchronous, so SQLite's
 * own `busy_timeout` would stall the whole process while another connection holds the write lock:
 * it is set to 0 here and every repository method is retried asynchronously instead
 * ({@link retryingRepo}), within `busyBudgetMs`.
 */
export function createSqliteStore(
  h: SqliteHandle,
  box: SecretBox,
  opts: SqliteStoreOptions = {},
): Store {
  const codec = createCodec(box);
  h.sqlite.pragma('busy_timeout = 0');
  const budget = opts.busyBudgetMs ?? DEFAULT_BUSY_BUDGET_MS;
  const retrying = <R extends object>(repo: R) => retryingRepo(repo, budget);
  return {
    dialect: 'sqlite',
    apps: retrying(sqliteApps(h.db, codec)),
    merchants: retrying(sqliteMerchants(h.db, codec)),
    credentials: retrying(sqliteCredentials(h.db, codec)),
    messages: retrying(sqliteMessages(h.db)),
    payNotifications: retrying(sqlitePayNotifications(h.db)),
    outbox: retrying(sqliteOutbox(h.db)),
    async ping() {
      h.sqlite.prepare('SELECT 1').get();
    },
    close: () => h.close(),
  };
}
