import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseSecretKeys } from '../config/secret-keys';

/**
 * For the embedded database only: reads the secret-at-rest key from `path`, or creates it once
 * (mode 0600) when missing. Returns whether it was created so the caller can log it.
 *
 * Synchronous on purpose: it runs once, at start, on a file of a few bytes; an async read would
 * start libuv's thread pool, which nothing else on the way to a function's first answer on the
 * embedded database needs (a cold start paid about 1.5 ms CPU for it).
 */
export function loadOrCreateLocalKey(path: string): { key: Buffer; created: boolean } {
  try {
    const text = readFileSync(path, 'utf8').trim();
    const r = parseSecretKeys(text);
    if ('error' in r) throw new Error(`secret key file ${path} is invalid: ${r.error}`);
    const [key] = r.keys;
    if (key === undefined) throw new Error(`secret key file ${path} is empty`);
    return { key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  // 'wx' fails if another process created the file meanwhile; then read theirs.
  try {
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateLocalKey(path);
    throw err;
  }
  return { key, created: true };
}
