import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../shared/crypto/secret-box';
import { TEST_SECRET_KEY, testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';

type Summary = {
  checked: number;
  refreshed: number;
  failed: { app: string; credential: string; error: string }[];
  outbox: unknown;
  purged: unknown;
};

const NEW_KEY = Buffer.from('the-new-32-byte-secret-at-rest!!', 'utf8');
const OLD_ID = keyIdOf(TEST_SECRET_KEY);

describe.each(testTargets())('secrets sealed under a removed key, on $name', (target) => {
  // Both apps' rows are sealed under the old key; `good` is then re-synced under the new one
  // (as the apps file does at start), `bad` is not.
  const good = testApp({ tokenMode: 'classic' });
  const bad = testApp({ tokenMode: 'classic', token: 'CallbackToken1' });
  let old: TestHub;
  let hub: TestHub;
  beforeAll(async () => {
    old = await createTestHub(target, { apps: [good, bad] });
    for (const a of [good, bad]) {
      expect((await old.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH })).status).toBe(
        200,
      );
    }
    hub = await createTestHub(target, { apps: [good], sim: old.sim, secretKeys: [NEW_KEY] });
  });
  afterAll(async () => {
    await hub.close();
    await old.close();
  });
  const get = (h: TestHub, name: string) =>
    h.app.request(`/v1/apps/${name}/token`, { headers: AUTH });

  it('answers 503 SECRET_KEY_UNKNOWN for the app whose secret does not open, naming the key id', async () => {
    const res = await get(hub, bad.name);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('SECRET_KEY_UNKNOWN');
    expect(body.error.message).toContain(`key id ${OLD_ID}`);
    expect(body.error.message).toContain(bad.name);
  });

  it('answers a WeChat callback for that app 503, so WeChat retries, not 409 "no token"', async () => {
    const res = await hub.app.request(
      `/wx/${bad.name}/callback?signature=x&timestamp=1&nonce=n&echostr=e`,
    );
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('SECRET_KEY_UNKNOWN');
  });

  it('replaces a token that does not open with a fresh one when the app secret opens', async () => {
    const res = await get(hub, good.name);
    expect(res.status).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };
    expect(hub.sim.sim.isTokenValid(accessToken)).toBe(true);
  });

  it('the refresh pass goes on for the others, lists the bad one, and drains the outbox', async () => {
    hub.sim.sim.clock.advance(7_000_000);
    const now = hub.deps.clock.now();
    // A pending delivery (to a closed port): the drain must still attempt it.
    await hub.deps.store.messages.insert(
      {
        app: good.name,
        dedupKey: `unreadable-${now}`,
        receivedAt: now,
        format: 'xml',
        encrypted: false,
        raw: '<xml/>',
        parsed: {},
      },
      [
        {
          owner: good.name,
          targetUrl: 'http://127.0.0.1:9/hook',
          idempotencyKey: `unreadable-${now}`,
          payload: '{}',
          maxAttempts: 5,
          nextAttemptAt: now,
        },
      ],
      now,
    );
    const res = await hub.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
    expect(res.status).toBe(200);
    const summary = (await res.json()) as Summary;
    expect(summary.failed).toEqual([
      {
        app: bad.name,
        credential: 'access_token',
        error: expect.stringMatching(new RegExp(`^SECRET_KEY_UNKNOWN: .*key id ${OLD_ID}`)),
      },
    ]);
    expect(summary.refreshed).toBe(1);
    expect(summary.outbox).toEqual({ delivered: 0, retrying: 1, dead: 0 });
    expect(summary.purged).toBeDefined();
    expect((await get(hub, good.name)).status).toBe(200);
  });

  it('rotation: with the new key first and the old one kept, everything opens', async () => {
    const both = await createTestHub(target, {
      sim: old.sim,
      secretKeys: [NEW_KEY, TEST_SECRET_KEY],
    });
    try {
      expect((await get(both, bad.name)).status).toBe(200);
      const res = await both.app.request('/v1/refresh', { method: 'POST', headers: AUTH });
      expect(((await res.json()) as Summary).failed).toEqual([]);
    } finally {
      await both.close();
    }
  });
});
