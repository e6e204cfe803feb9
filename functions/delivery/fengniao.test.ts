import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { AppConfig } from '../../shared/config';
import { fengniaoTokenFetcher } from '../../shared/delivery/fengniao';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { rawTableText, testTargets } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { startTarget } from '../wx-callback/testing';

type TokenBody = { merchantId: string; accessToken: string; expiresAt: string };

const DAY = 86_400_000;

describe.each(testTargets())('Fengniao apps on $name', (target) => {
  let sim: RunningSimulator;
  let forwardTo: Awaited<ReturnType<typeof startTarget>>;
  let app: AppConfig;
  let hubs: TestHub[];
  let server: RunningServer;
  const merchantId = '51659';

  beforeAll(async () => {
    sim = await startSimulator();
    forwardTo = await startTarget();
    app = testApp({
      kind: 'fengniao',
      appId: `${Date.now() % 1_000_000}${process.pid % 1000}`,
      devId: '8899',
      forward: [{ url: forwardTo.url, match: { callback_business_type: 'orderStatusNotify' } }],
    });
    hubs = [];
    for (let i = 0; i < 3; i++) {
      hubs.push(await createTestHub(target, { apps: [app], sim, instanceId: `fn-${i}` }));
    }
    server = await listen((hubs[0] as TestHub).app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close(0);
    await Promise.all(hubs.map((h) => h.close()));
    await forwardTo.close();
    await sim.close();
  });

  const hub = (i = 0) => hubs[i] as TestHub;
  const token = async (h: TestHub, merchant = merchantId) => {
    const res = await h.app.request(`/v1/fengniao/${app.name}/merchants/${merchant}/token`, {
      headers: AUTH,
    });
    if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as TokenBody;
  };
  const authCallback = () => `${server.url}/fengniao/${app.name}/auth-callback`;
  const callbackUrl = () => `${server.url}/fengniao/${app.name}/callback`;

  it('sends the merchant to the authorization page with app_id and dev_id', async () => {
    const res = await hub().app.request(`/fengniao/${app.name}/authorize`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location') ?? '');
    expect(`${to.origin}${to.pathname}`).toBe('https://open.ele.me/app-auth');
    expect(to.searchParams.get('app_id')).toBe(app.appId);
    expect(to.searchParams.get('dev_id')).toBe('8899');
  });

  it('takes an API key on its /v1 routes (401 without), and 400 for an app of another kind', async () => {
    const res = await hub().app.request(`/v1/fengniao/${app.name}/merchants/${merchantId}/token`);
    expect(res.status).toBe(401);
    const other = await hub().app.request(
      `/v1/shansong/${app.name}/merchants/${merchantId}/token`,
      {
        headers: AUTH,
      },
    );
    expect(other.status).toBe(400);
  });

  it('answers 404 for a merchant that has not authorized', async () => {
    const res = await hub().app.request(`/v1/fengniao/${app.name}/merchants/777/token`, {
      headers: AUTH,
    });
    expect(res.status).toBe(404);
  });

  it("exchanges the auth callback's code once (signed), and serves the merchant's token", async () => {
    const pushed = await sim.sim.fengniao.authorize(app.appId, merchantId, authCallback());
    expect(pushed).toMatchObject({ status: 200, body: 'Success' });
    expect(sim.sim.calls('/fengniao/openapi/token')).toBe(1);
    // The platform sends the same code again: answered alike, not exchanged twice.
    const again = await fetch(authCallback(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: pushed.code, merchant_id: merchantId, scope: 'all' }),
    });
    expect(again.status).toBe(200);
    expect(sim.sim.calls('/fengniao/openapi/token')).toBe(1);
    const served = await token(hub(1));
    expect(served.merchantId).toBe(merchantId);
    expect(sim.sim.fengniao.isTokenValid(served.accessToken)).toBe(true);
    // Kept as credentials of the merchant, sealed: the table's text never holds the token.
    const raw = await rawTableText(hub().opened, 'credentials');
    expect(raw).toContain(`fengniao:${app.name}:${merchantId}`);
    expect(raw).not.toContain(served.accessToken);
  });

  it('signs a business call with business_data as the exact string sent, and passes the answer on', async () => {
    const body = '{"partner_order_code":"A1","price":1.50,"id":300000123456789012}';
    const res = await hub(2).app.request(
      `/v1/fengniao/${app.name}/merchants/${merchantId}/proxy/preCreateOrder`,
      { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body },
    );
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { code: string; business_data: string };
    expect(answer.code).toBe('200');
    const last = sim.sim.fengniao.invokes().at(-1);
    expect(last).toEqual({
      api: 'preCreateOrder',
      appId: app.appId,
      merchantId,
      businessData: body,
    });
  });

  it('answers 504 when Fengniao does not answer in time (fault injected), its error page as it is', async () => {
    const slow = await createTestHub(target, {
      apps: [app],
      sim,
      instanceId: 'fn-slow',
      wechatTimeoutMs: 300,
    });
    const call = () =>
      slow.app.request(`/v1/fengniao/${app.name}/merchants/${merchantId}/proxy/getOrderDetail`, {
        method: 'POST',
        headers: AUTH,
        body: '{"partner_order_code":"A1"}',
      });
    try {
      sim.sim.injectFault({ path: '/fengniao/v3/invoke/getOrderDetail', delayMs: 1000 });
      const res = await call();
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT' } });
      sim.sim.injectFault({ path: '/fengniao/v3/invoke/getOrderDetail', status: 503 });
      const page = await call();
      expect(page.status).toBe(503);
      expect(page.headers.get('content-type')).toContain('text/html');
    } finally {
      await slow.close();
    }
  });

  it('refuses a proxy body that is not a JSON object, calling nothing', async () => {
    const before = sim.sim.calls('/fengniao/v3/invoke/createOrder');
    const res = await hub().app.request(
      `/v1/fengniao/${app.name}/merchants/${merchantId}/proxy/createOrder`,
      { method: 'POST', headers: AUTH, body: '[1]' },
    );
    expect(res.status).toBe(400);
    expect(sim.sim.calls('/fengniao/v3/invoke/createOrder')).toBe(before);
  });

  it('refuses a tampered callback and stores nothing', async () => {
    const before = await hub().deps.store.messages.count(app.name);
    const data = '{"callback_business_type":"orderStatusNotify","param":{"order_id":1}}';
    const r = await sim.sim.fengniao.callback(app.appId, callbackUrl(), data, { tamper: true });
    expect(r.status).toBe(401);
    expect(await hub().deps.store.messages.count(app.name)).toBe(before);
    expect(forwardTo.received).toHaveLength(0);
  });

  it('stores a valid callback once (sent twice) and forwards it with its 64-bit ids exact', async () => {
    const before = await hub().deps.store.messages.count(app.name);
    const data =
      '{"callback_business_type":"orderStatusNotify","param":{"order_id":300000123456789012,"order_status":2}}';
    const first = await sim.sim.fengniao.callback(app.appId, callbackUrl(), data);
    const second = await sim.sim.fengniao.callback(app.appId, callbackUrl(), data, {
      timestamp: sim.sim.clock.now() + 1000,
    });
    expect(first).toEqual({ status: 200, body: '{"result":"OK"}' });
    expect(second).toEqual({ status: 200, body: '{"result":"OK"}' });
    expect(await hub().deps.store.messages.count(app.name)).toBe(before + 1);
    expect(forwardTo.received).toHaveLength(1);
    expect(forwardTo.received[0]?.text).toContain('"order_id":300000123456789012');
    expect(forwardTo.received[0]?.body).toMatchObject({ app: app.name, platform: 'fengniao' });
    // Counted as WeChat's pushes are (`wxhub_callbacks_total`), the tampered one above included.
    const counts = hub()
      .deps.telemetry.metrics.snapshot()
      .callbacks.filter((s) => s.labels.platform === 'fengniao');
    expect(counts).toEqual(
      expect.arrayContaining([
        { labels: { platform: 'fengniao', outcome: 'stored', reason: '' }, value: 1 },
        { labels: { platform: 'fengniao', outcome: 'deduplicated', reason: '' }, value: 1 },
        { labels: { platform: 'fengniao', outcome: 'refused', reason: 'unauthorized' }, value: 1 },
      ]),
    );
  });

  it('3 instances × 300 concurrent reads of an expired token make one refresh call', async () => {
    const old = (await token(hub())).accessToken;
    sim.sim.clock.advance(365 * DAY + 60_000);
    const before = sim.sim.calls('/fengniao/openapi/refreshToken');
    const answers = await Promise.all(Array.from({ length: 900 }, (_, i) => token(hub(i % 3))));
    expect(sim.sim.calls('/fengniao/openapi/refreshToken')).toBe(before + 1);
    const values = new Set(answers.map((a) => a.accessToken));
    expect(values.size).toBe(1);
    expect(values.has(old)).toBe(false);
    expect(sim.sim.fengniao.isTokenValid(answers[0]?.accessToken ?? '')).toBe(true);
  }, 60_000);

  it('does not refresh again inside the 10-minute window, and the refresh pass renews ahead of expiry', async () => {
    const h = hub();
    const key = { owner: `fengniao:${app.name}:${merchantId}`, kind: 'merchant_access_token' };
    const row = await h.deps.store.credentials.get(key);
    const before = sim.sim.calls('/fengniao/openapi/refreshToken');
    const stored = await h.deps.store.apps.get(app.name);
    if (stored === undefined || row === undefined) throw new Error('no app or row');
    const again = await fengniaoTokenFetcher(h.deps, stored, merchantId)(row);
    expect(again.value).toBe(row.value);
    expect(sim.sim.calls('/fengniao/openapi/refreshToken')).toBe(before);

    // Five minutes before expiry, the pass renews it (one call, whichever instance runs it).
    sim.sim.clock.advance((row.expiresAt ?? 0) - sim.sim.clock.now() - 5 * 60_000);
    const passes = await Promise.all(
      hubs.map((x) => x.app.request('/v1/refresh', { method: 'POST', headers: AUTH })),
    );
    expect(passes.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(sim.sim.calls('/fengniao/openapi/refreshToken')).toBe(before + 1);
    const renewed = await h.deps.store.credentials.get(key);
    expect(renewed?.value).not.toBe(row.value);
    expect(sim.sim.fengniao.isTokenValid(renewed?.value ?? '')).toBe(true);
  }, 60_000);
});
