import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

describe.each(testTargets())('refresh function on $name', (target) => {
  const oa = testApp();
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [oa] });
  });
  afterAll(() => hub.close());

  it('drains the outbox even when the credential pass fails, then reports the failure', async () => {
    const now = hub.deps.clock.now();
    await hub.deps.store.messages.insert(
      {
        app: oa.name,
        dedupKey: `drain-${now}`,
        receivedAt: now,
        format: 'xml',
        encrypted: false,
        raw: '<xml/>',
        parsed: {},
      },
      [
        {
          owner: oa.name,
          targetUrl: 'http://127.0.0.1:9/hook',
          idempotencyKey: `drain-${now}`,
          payload: '{}',
          maxAttempts: 5,
          nextAttemptAt: now,
        },
      ],
      now,
    );
    const apps = hub.deps.store.apps;
    const list = apps.list;
    apps.list = () => Promise.reject(new Error('the apps table is unavailable'));
    try {
      const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(res.status).toBe(500);
    } finally {
      apps.list = list;
    }
    const [delivery] = await hub.deps.store.outbox.list({ owner: oa.name });
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('the pass replaces a token this instance caches, and adds no cache entry for the others', async () => {
    const served = testApp({ tokenMode: 'classic' });
    const other = testApp({ tokenMode: 'classic' });
    const own = await createTestHub(target, { apps: [served, other] });
    try {
      const key = (name: string) => ({ owner: `app:${name}`, kind: 'access_token' });
      const tokenOf = async (name: string) => {
        const res = await own.app.request(`/v1/apps/${name}/token`, { headers: AUTH });
        return ((await res.json()) as { accessToken: string }).accessToken;
      };
      const first = await tokenOf(served.name);
      await tokenOf(other.name);
      own.deps.tokens.forget(key(other.name));
      expect(own.deps.tokens.cached(key(served.name))?.value).toBe(first);
      // Inside the last 10 minutes: the pass renews both.
      own.sim.sim.clock.advance(7200_000 - 5 * 60_000);
      const pass = await own.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(((await pass.json()) as { refreshed: number }).refreshed).toBeGreaterThanOrEqual(2);
      const renewed = own.deps.tokens.cached(key(served.name))?.value;
      expect(renewed).toBeDefined();
      expect(renewed).not.toBe(first);
      expect(own.deps.tokens.cached(key(other.name))).toBeUndefined();
    } finally {
      await own.close();
    }
  });
});
