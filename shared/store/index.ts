import type { SecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import type { Store } from './types';

export type * from './types';

/**
 * The {@link Store} for an open database of either dialect. Only that dialect's repositories
 * (and drizzle's dialect code) are loaded: an SCF function on MySQL never parses the SQLite
 * half, nor the embedded one the MySQL half.
 */
export async function createStore(h: DatabaseHandle, box: SecretBox): Promise<Store> {
  if (h.dialect === 'mysql') {
    const { createMysqlStore } = await import('./mysql');
    return createMysqlStore(h, box);
  }
  const { createSqliteStore } = await import('./sqlite');
  return createSqliteStore(h, box);
}
