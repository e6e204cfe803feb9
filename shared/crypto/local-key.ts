import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseSecretKeys } from '../config/secret-keys';

/**
 * For the embedded database only: reads the secret-at-rest key from `path`, or creates it once
 * (mode 0600) when missing. Returns whether it was created so the caller can log it.
 */
export async function loadOrCreateLocalKey(
  path: string,
): Promise<{ key: Buffer; created: boolean }> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    const r = parseSecretKeys(text);
    if ('error' in r) throw new Error(`secret key file ${path} is invalid: ${r.error}`);
    const [key] = r.keys;
    if (key === undefined) throw new Error(`secret key file ${path} is empty`);
    return { key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true });
  // 'wx' fails if another process created the file meanwhile; then read theirs.
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateLocalKey(path);
    throw err;
  }
  return { key, created: true };
}
