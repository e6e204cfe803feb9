import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  openSecondConnection,
  type SecondConnection,
  testTargets,
} from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

/** The longest gap between ticks of a 10 ms interval while it runs: how long the loop stalled. */
function watchEventLoop() {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

/** A correctness bound (the loop is never frozen for a lock wait), not a speed goal. */
const STALL_BOUND_MS = 500;

const sqlite = testTargets().filter((t) => t.name === 'sqlite');

describe.each(sqlite)('SQLite write lock held by another connection, on $name', (target) => {
  const oa = testApp({ tokenMode: 'classic' });
  let hub: TestHub;
  let other: SecondConnection;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [oa], busyBudgetMs: 1_000 });
    other = await openSecondConnection(target);
  });
  afterEach(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
  });
  afterAll(async () => {
    await other.close();
    await hub.close();
  });
  const token = () => hub.app.request(`/v1/apps/${oa.name}/token`, { headers: AUTH });
  const invalidate = (accessToken: string) =>
    hub.app.request(`/v1/apps/${oa.name}/token/invalidate`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken }),
    });

  it('serves cached reads, keeps the event loop free, and lets a write finish once the lock is released', async () => {
    const { accessToken } = (await (await token()).json()) as { accessToken: string };
    other.exec('BEGIN IMMEDIATE');
    const loop = watchEventLoop();
    const write = Promise.resolve(invalidate(accessToken));
    let settled = false;
    void write.finally(() => {
      settled = true;
    });
    const cached = await token();
    expect(cached.status).toBe(200);
    expect(((await cached.json()) as { accessToken: string }).accessToken).toBe(accessToken);
    await sleep(300);
    expect(settled).toBe(false);
    other.exec('COMMIT');
    const res = await write;
    expect(loop.stop()).toBeLessThan(STALL_BOUND_MS);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { accessToken: string }).accessToken).not.toBe(accessToken);
  });

  it('answers 503 UNAVAILABLE when the lock is held past the budget, without stalling the loop', async () => {
    const { accessToken } = (await (await token()).json()) as { accessToken: string };
    other.exec('BEGIN IMMEDIATE');
    const loop = watchEventLoop();
    const res = await invalidate(accessToken);
    expect(loop.stop()).toBeLessThan(STALL_BOUND_MS);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.error.message).toContain('locked');
    other.exec('ROLLBACK');
    expect((await invalidate(accessToken)).status).toBe(200);
  });
});
