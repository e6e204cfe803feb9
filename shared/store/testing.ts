import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatabaseConfig } from '../config';
import { createSecretBox } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import { migrateDatabase, openDatabase } from '../db/client';
import { createStore } from './index';
import type { Store } from './types';

/** Test support: the databases the contract suite runs on, and fresh stores over them. */
export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../drizzle');

export interface TestTarget {
  name: 'sqlite' | 'mysql';
  config: DatabaseConfig;
}

/** SQLite always; MySQL/MariaDB when `TEST_MYSQL_URL` is set. */
export function testTargets(): TestTarget[] {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-test-'));
  const targets: TestTarget[] = [
    { name: 'sqlite', config: { dialect: 'sqlite', path: join(dir, 'wxhub.db') } },
  ];
  const url = process.env.TEST_MYSQL_URL;
  if (url !== undefined && url !== '')
    targets.push({ name: 'mysql', config: { dialect: 'mysql', url } });
  return targets;
}

/**
 * One fixed key for every test file and run: the MySQL test database is shared, and a row sealed
 * under another run's key would not open.
 */
export const TEST_SECRET_KEY = Buffer.from('wxhub-test-secret-key-32-bytes!!', 'utf8');

export interface OpenedStore {
  store: Store;
  handle: DatabaseHandle;
}

/** Opens, migrates and wraps a database; close with `store.close()`. */
export async function openTestStore(
  target: TestTarget,
  opts: { poolSize?: number } = {},
): Promise<OpenedStore> {
  const handle = openDatabase(target.config, opts);
  await migrateDatabase(handle, MIGRATIONS_DIR);
  return { store: createStore(handle, createSecretBox([TEST_SECRET_KEY])), handle };
}

let counter = 0;
/** A name unique across test files and runs, valid as an app or merchant name. */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
