import { describe, expect, it } from 'vitest';
import { AppError } from '../http/errors';
import { createRegistry, MISS_CACHE_SIZE, MISS_TTL_MS } from './registry';

function setup(rows: Record<string, { enabled: boolean }> = {}) {
  let now = 1_700_000_000_000;
  const loads: string[] = [];
  const registry = createRegistry(
    async (name: string) => {
      loads.push(name);
      return rows[name];
    },
    'app',
    { now: () => now },
  );
  return {
    registry,
    loads,
    advance(ms: number) {
      now += ms;
    },
  };
}

async function notFound(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('NOT_FOUND');
  return (err as AppError).message;
}

describe('app registry', () => {
  it('keeps at most MISS_CACHE_SIZE unknown names after 40,000 distinct ones', async () => {
    const { registry, loads } = setup({ shop: { enabled: true } });
    await registry.require('shop');
    for (let i = 0; i < 40_000; i++) await notFound(registry.require(`unknown-${i}`));
    expect(loads).toHaveLength(40_001);
    expect(registry.size()).toBeLessThanOrEqual(MISS_CACHE_SIZE + 1);
    // The known row is kept while unknown names come and go.
    expect(registry.cached('shop')).toEqual({ enabled: true });
  });

  it('drops the least recently asked unknown name first', async () => {
    const { registry, loads } = setup();
    for (let i = 0; i < MISS_CACHE_SIZE; i++) await notFound(registry.require(`n-${i}`));
    await notFound(registry.require('n-0')); // from memory, now the most recent
    await notFound(registry.require('one-more')); // evicts n-1
    loads.length = 0;
    await notFound(registry.require('n-0'));
    await notFound(registry.require('n-1'));
    expect(loads).toEqual(['n-1']);
  });

  it('answers an unknown name from memory only for MISS_TTL_MS', async () => {
    const rows: Record<string, { enabled: boolean }> = {};
    const { registry, loads, advance } = setup(rows);
    await notFound(registry.require('late'));
    await notFound(registry.require('late'));
    expect(loads).toEqual(['late']);
    rows.late = { enabled: true }; // added through the admin API, say
    advance(MISS_TTL_MS);
    await expect(registry.require('late')).resolves.toEqual({ enabled: true });
    expect(loads).toEqual(['late', 'late']);
  });

  it('refuses a name no row can have without a lookup or a cache entry', async () => {
    const { registry, loads } = setup();
    const long = `a${'x'.repeat(8_191)}`;
    for (const name of [long, 'UPPER', '-lead', '', 'a/b', `a${'b'.repeat(64)}`]) {
      const message = await notFound(registry.require(name));
      expect(message.length).toBeLessThan(100);
    }
    expect(loads).toEqual([]);
    expect(registry.size()).toBe(0);
  });
});
