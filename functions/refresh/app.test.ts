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
});
