import type { Clock } from '../clock';
import type { SecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import type { Logger } from '../http/log';
import type { Store } from './types';

export type * from './admin';
export type * from './platform-merchants';
export type { ReaderStore } from './reader';
export type * from './sessions';
export type * from './sms';
export type * from './types';
export { COUNTER_BUCKET_MS, SIGNATURE_GRACE_MS, SignatureReplayError } from './types';
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
    return createMysqlStore(h, box, {
      log: opts.log,
      clock: opts.clock,
      timeoutMs: opts.replicaTimeoutMs,
    });
  }
  const { createSqliteStore } = await import('./dialects/sqlite');
  return createSqliteStore(h, box, opts);
}

export interface StoreOptions {
  /** SQLite: longest total wait for another connection's write lock before a 503 (5 s). */
  busyBudgetMs?: number;
  /** Where the reader says that the read replica failed or is back (MySQL with a replica). */
  log?: Logger | undefined;
  /** The reader's clock (how long it leaves a failed replica alone). */
  clock?: Clock | undefined;
  /** How long a replica read may take before the primary answers it (10 s). */
  replicaTimeoutMs?: number | undefined;
}
