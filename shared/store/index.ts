import type { SecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import type { Store } from './types';

export type * from './admin';
export type * from './sessions';
export type * from './sms';
export type * from './types';
export { COUNTER_BUCKET_MS, SignatureReplayError } from './types';
export type * from './wxacodes';

/**
 * The {@link Store} for an open database of either dialect. Only that dialect's repositories and
 * schema are initialised (in an SCF bundle the other dialect's code is present but never run),
 * which is start-up work a cold function does not do.
 */
export async function createStore(
  h: DatabaseHandle,
  box: SecretBox,
  opts: StoreOptions = {},
): Promise<Store> {
  if (h.dialect === 'mysql') {
    const { createMysqlStore } = await import('./dialects/mysql');
    return createMysqlStore(h, box);
  }
  const { createSqliteStore } = await import('./dialects/sqlite');
  return createSqliteStore(h, box, opts);
}

export interface StoreOptions {
  /** SQLite: longest total wait for another connection's write lock before a 503 (5 s). */
  busyBudgetMs?: number;
}
