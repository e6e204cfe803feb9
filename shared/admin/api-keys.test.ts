import { describe, expect, it } from 'vitest';
import { createBaseApp } from '../http/app';
import { createLogger } from '../http/log';
import type { AdminRepo } from '../store';
import { createApiKey, createKeyChecker, KEY_CACHE_MS, KEY_TOUCH_EVERY_MS } from './api-keys';

const ENV_KEY = 'env-key-0123456789abcdef';

/** The key part of AdminRepo in memory, counting reads and touches. */
function memoryKeys() {
  const rows = new Map<string, { id: number; revokedAt: number | undefined }>();
  const counts = { reads: 0, touches: 0 };
  let down = false;
  const repo: Pick<
    AdminRepo,
    'createApiKey' | 'listApiKeys' | 'apiKeyByHash' | 'revokeApiKey' | 'touchApiKey'
  > = {
    async createApiKey(k) {
      rows.set(k.keyHash, { id: rows.size + 1, revokedAt: undefined });
      return rows.size;
    },
    listApiKeys: async () => [],
    async apiKeyByHash(hash) {
      counts.reads += 1;
      if (down) throw new Error('connect ECONNREFUSED');
      return rows.get(hash);
    },
    async revokeApiKey(id, now) {
      for (const r of rows.values()) if (r.id === id) r.revokedAt = now;
      return true;
    },
    async touchApiKey() {
      counts.touches += 1;
    },
  };
  return { repo, counts, setDown: (d: boolean) => (down = d) };
}

describe('console API keys', () => {
  it('holds a revoke made elsewhere within a second, and writes last use once a minute', async () => {
    const { repo, counts } = memoryKeys();
    let now = 1_000_000;
    const check = createKeyChecker(repo, { now: () => now });
    const { id, key } = await createApiKey(repo, 'ci', 'root', now);
    expect(await check(key)).toBe(true);
    expect(await check(key)).toBe(true);
    expect(counts).toEqual({ reads: 1, touches: 1 });
    await repo.revokeApiKey(id, now);
    now += KEY_CACHE_MS;
    expect(await check(key)).toBe(false);
    expect(counts.reads).toBe(2);
    // Another key: used often, its last use is written once per minute.
    const other = await createApiKey(repo, 'b', 'root', now);
    for (let i = 0; i < 30; i += 1) {
      now += 2_000;
      expect(await check(other.key)).toBe(true);
    }
    expect(counts.touches).toBe(2);
    now += KEY_TOUCH_EVERY_MS;
    expect(await check(other.key)).toBe(true);
    expect(counts.touches).toBe(3);
  });

  it('never reads the database for a key of another shape', async () => {
    const { repo, counts } = memoryKeys();
    const check = createKeyChecker(repo, { now: () => 0 });
    expect(await check('not-a-console-key-at-all')).toBe(false);
    expect(counts.reads).toBe(0);
  });

  it('checks WXHUB_API_KEYS first without a read, and answers 503 when the database cannot say', async () => {
    const { repo, counts, setDown } = memoryKeys();
    const app = createBaseApp({
      store: { ping: async () => undefined, admin: repo },
      log: createLogger('silent'),
      config: { bodyLimitBytes: 1024, apiKeys: [ENV_KEY], trustWxSource: false },
    });
    app.get('/v1/ping', (c) => c.json({ pong: true }));
    const get = (key: string) =>
      app.request('/v1/ping', { headers: { authorization: `Bearer ${key}` } });
    expect((await get(ENV_KEY)).status).toBe(200);
    expect(counts.reads).toBe(0);
    const { key } = await createApiKey(repo, 'ci', 'root', 0);
    expect((await get(key)).status).toBe(200);
    expect((await get(`wxk_${'A'.repeat(43)}`)).status).toBe(401);
    setDown(true);
    const res = await get(`wxk_${'B'.repeat(43)}`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.error.message).not.toContain('ECONNREFUSED');
  });
});
