import { sqliteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it, vi } from 'vitest';
import { createSecretBox } from '../../crypto/secret-box';
import { migrateSqlite, openSqlite } from '../../db/sqlite';
import { TEST_SECRET_KEY } from '../testing';
import { createSqliteStore } from './sqlite';

// Counts the SQLite tables drizzle is asked to build (the real builder does the work).
vi.mock('drizzle-orm/sqlite-core', async (importOriginal) => {
  const real = await importOriginal<typeof import('drizzle-orm/sqlite-core')>();
  return { ...real, sqliteTable: vi.fn(real.sqliteTable) };
});

const built = () => vi.mocked(sqliteTable).mock.calls.map(([name]) => name);

describe('SQLite store cold start', () => {
  it('builds a table and a repository only when a request first uses them', async () => {
    const h = openSqlite(':memory:');
    migrateSqlite(h, 'drizzle/sqlite');
    const store = createSqliteStore(h, createSecretBox([TEST_SECRET_KEY]));
    try {
      // Loading the adapter and opening the store built no table.
      expect(built()).toEqual([]);
      await store.ping();
      expect(built()).toEqual([]);
      // Every function's app takes the admin repository at start (console-made API keys).
      expect(typeof store.admin.apiKeyByHash).toBe('function');
      expect(built()).toEqual([]);
      await store.counters.increment('calls', 'token', 7_200_000);
      await store.counters.increment('calls', 'token', 7_200_001);
      expect(await store.counters.list('calls', 0, 10_800_000)).toEqual([
        { label: 'token', bucketStart: 7_200_000, count: 2 },
      ]);
      // Only the counters table, once: the repository and its table are kept.
      expect(built()).toEqual(['counters']);
      expect(store.counters).toBe(store.counters);
      // Spreading the store (as a wrapper might) still gives every repository.
      const all = { ...store };
      expect(Object.keys(all)).toEqual(expect.arrayContaining(['apps', 'signingKeys', 'close']));
    } finally {
      await store.close();
    }
  });
});
