import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { AdminRepo, ApiKeyRecord } from '../store';
import { sha256 } from './sessions';

/** Console-made keys: `wxk_` and 43 base64url characters (256 random bits). */
export const API_KEY_SHAPE = /^wxk_[A-Za-z0-9_-]{43}$/;
/** Random characters of a key kept in the clear to recognise it in a list: its last 4. */
const SHOWN_CHARACTERS = 4;
/** How long an instance trusts a key it found live before reading it again: a revoke takes effect on every instance within this. */
export const KEY_CACHE_MS = 1_000;
/** `last_used_at` is written at most this often per key per instance. */
export const KEY_TOUCH_EVERY_MS = 60_000;
const CACHE_MAX = 1_000;

/** A new key: stored by its hash; `key` is shown once and never again. */
export async function createApiKey(
  repo: Pick<AdminRepo, 'createApiKey'>,
  name: string,
  createdBy: string,
  now: number,
): Promise<{ id: number; name: string; key: string; prefix: string }> {
  const key = `wxk_${randomBytes(32).toString('base64url')}`;
  // `wxk_` and the key's last 4 characters (about 24 bits, shown wherever keys are listed).
  const prefix = `wxk_...${key.slice(-SHOWN_CHARACTERS)}`;
  const id = await repo.createApiKey({
    name,
    prefix,
    keyHash: sha256(key),
    createdBy,
    createdAt: now,
  });
  return { id, name, key, prefix };
}

export type { ApiKeyRecord };

interface Known {
  id: number;
  checkedAt: number;
}

/** Per-store state of {@link createKeyChecker}, so a revoke can drop this instance's entries. */
const caches = new WeakMap<object, { live: Map<string, Known>; touched: Map<number, number> }>();

function cacheOf(repo: object) {
  let c = caches.get(repo);
  if (c === undefined) {
    c = { live: new Map(), touched: new Map() };
    caches.set(repo, c);
  }
  return c;
}

/** Forgets every key this instance found live (after a revoke here). */
export function forgetApiKeys(repo: object): void {
  cacheOf(repo).live.clear();
}

/**
 * Checks a presented bearer key against the console-made keys: one indexed read by its SHA-256,
 * a revoked or unknown key refused. A key found live is trusted for {@link KEY_CACHE_MS} without
 * another read (so a revoke made on another instance holds within a second); `last_used_at` is
 * written at most once per {@link KEY_TOUCH_EVERY_MS} per key and instance.
 */
export function createKeyChecker(
  repo: Pick<AdminRepo, 'apiKeyByHash' | 'touchApiKey'>,
  clock: Clock,
  onTouchError: (err: unknown) => void = () => undefined,
): (presented: string) => Promise<boolean> {
  const cache = cacheOf(repo);
  return async (presented) => {
    if (!API_KEY_SHAPE.test(presented)) return false;
    const hash = sha256(presented);
    const now = clock.now();
    let known = cache.live.get(hash);
    if (known === undefined || now - known.checkedAt >= KEY_CACHE_MS || now < known.checkedAt) {
      cache.live.delete(hash);
      const row = await repo.apiKeyByHash(hash);
      if (row === undefined || row.revokedAt !== undefined) return false;
      known = { id: row.id, checkedAt: now };
      if (cache.live.size >= CACHE_MAX) cache.live.clear();
      cache.live.set(hash, known);
    }
    const touched = cache.touched.get(known.id);
    if (touched === undefined || now - touched >= KEY_TOUCH_EVERY_MS) {
      cache.touched.set(known.id, now);
      if (cache.touched.size > CACHE_MAX) cache.touched.clear();
      // Once a minute per key: awaiting it costs the hot path nothing, and a failure only logs.
      await repo.touchApiKey(known.id, now).catch(onTouchError);
    }
    return true;
  };
}
