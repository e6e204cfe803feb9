import type { SecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import { createMysqlStore } from './mysql';
import { createSqliteStore } from './sqlite';
import type { Store } from './types';

export type * from './types';

/** The {@link Store} for an open database of either dialect. */
export function createStore(h: DatabaseHandle, box: SecretBox): Store {
  return h.dialect === 'mysql' ? createMysqlStore(h, box) : createSqliteStore(h, box);
}
